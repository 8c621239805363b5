/**
 * Client-Initiated Backchannel Authentication (OpenID CIBA Core, FAPI-CIBA): the facts the provider
 * configuration, client registration and the authentication device share.
 */

export const CIBA_GRANT_TYPE = 'urn:openid:params:grant-type:ciba';

/** Poll and ping; push is refused (FAPI-CIBA forbids it: tokens would travel to a URL, unbound). */
export const CIBA_DELIVERY_MODES = ['poll', 'ping'] as const;
export type CibaDeliveryMode = (typeof CIBA_DELIVERY_MODES)[number];

/**
 * What a binding_message may hold: short, printable, shown on the TPP's device and the customer's
 * alike so the customer can match the two (letters and digits of any script, spaces, basic punctuation).
 */
export const BINDING_MESSAGE = /^[\p{L}\p{N} .,:;!?#+/_-]{1,40}$/u;
