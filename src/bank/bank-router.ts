import { Router } from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { ObError, obErrors } from '../consents/api/ob-error.ts';
import { ConsentExpired, ConsentNotFound } from '../consents/consent-errors.ts';
import { consumePaymentConsent, getConsent } from '../consents/consent-service.ts';
import { IllegalConsentTransition } from '../consents/consent-status.ts';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { bankConsentBody } from './bank-consent-body.ts';
import { requireResourceServerToken, resourceServerOf } from './bank-token.ts';
import { vrpPaymentRoute } from './vrp-payment-route.ts';

export interface BankApiDeps {
  provider: Provider;
  db: Db;
  presentedCertificate: ClientCertificateReader;
  logger: Logger;
}

export const BANK_PREFIX = '/bank';

const notFound = () => ObError.of(404, 'UK.OBIE.Resource.NotFound', 'consent not found', 'ConsentId');

function mapServiceErrors(error: unknown): never {
  if (error instanceof ConsentNotFound) throw notFound();
  if (error instanceof ConsentExpired) throw ObError.of(400, 'UK.OBIE.Resource.InvalidConsentStatus', error.message, 'Status');
  if (error instanceof IllegalConsentTransition) throw ObError.of(400, 'UK.OBIE.Resource.InvalidConsentStatus', error.message, 'Status');
  throw error;
}

/** The bank's resource servers read any consent and consume payment consents; errors in the UK OB envelope. */
export function bankApiRouter(deps: BankApiDeps) {
  const { provider, db } = deps;
  const router = new Router({ prefix: BANK_PREFIX });
  router.use(obErrors(deps.logger), requireResourceServerToken(provider, deps.presentedCertificate));

  router.get('/consents/:consentId', async (ctx) => {
    const consent = await getConsent(db, ctx.params.consentId ?? '');
    if (!consent) throw notFound();
    ctx.set('cache-control', 'no-store');
    ctx.body = bankConsentBody(consent);
  });

  router.post('/payment-consents/:consentId/consume', async (ctx) => {
    const actor = { kind: 'resource_server' as const, id: resourceServerOf(ctx) };
    const consent = await consumePaymentConsent(db, { consentId: ctx.params.consentId ?? '', actor }).catch(mapServiceErrors);
    ctx.set('cache-control', 'no-store');
    ctx.body = bankConsentBody(consent);
  });

  vrpPaymentRoute(router, db);
  return router;
}
