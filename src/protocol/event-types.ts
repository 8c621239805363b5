/** The UK OB event types Assent emits (Event Notification API v3.1), one place for their names. */
export const RESOURCE_UPDATE = 'urn:uk:org:openbanking:events:resource-update';
export const CONSENT_AUTHORIZATION_REVOKED = 'urn:uk:org:openbanking:events:consent-authorization-revoked';

export const EVENT_TYPES = [RESOURCE_UPDATE, CONSENT_AUTHORIZATION_REVOKED] as const;
export type EventType = (typeof EVENT_TYPES)[number];
