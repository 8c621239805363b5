import type { AuthorizationDetail } from 'oidc-provider';
import { getConsent } from '../consents/consent-service.ts';
import { vrpUsageOf } from '../consents/vrp/vrp-payment-service.ts';
import type { Db } from '../db/connect.ts';

/**
 * Introspection of a VRP token: its `domestic_vrp` authorization_details entry carries, at the moment
 * of introspection, each periodic limit's current period with what has been paid and what remains
 * (`periods`). The control parameters themselves are stored on the token (consentClaims).
 */
export async function withVrpUsage(
  db: Db,
  details: readonly AuthorizationDetail[] | undefined,
): Promise<AuthorizationDetail[] | undefined> {
  if (!details) return undefined;
  return Promise.all(
    details.map(async (detail) => {
      if (detail.type !== 'domestic_vrp' || typeof detail.consent_id !== 'string') return detail;
      const consent = await getConsent(db, detail.consent_id);
      const periods = consent && (await vrpUsageOf(db, consent));
      return periods ? { ...detail, periods } : detail;
    }),
  );
}
