import { Router } from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { obErrors } from '../ob-api/ob-error.ts';
import { ConsentNotFound } from '../consents/consent-errors.ts';
import { consumePaymentConsent, getConsent } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { BANK_PREFIX } from '../protocol/routes.ts';
import { bankConsentBody } from './bank-consent-body.ts';
import { requireResourceServerToken, resourceServerOf } from './bank-token.ts';
import { vrpPaymentRoute } from './vrp-payment-route.ts';

export interface BankApiDeps {
  provider: Provider;
  db: Db;
  presentedCertificate: ClientCertificateReader;
  logger: Logger;
}

/**
 * The bank's resource servers read any consent and consume payment consents; service errors leave in the
 * UK OB envelope through ob-api's one table.
 */
export function bankApiRouter(deps: BankApiDeps) {
  const { provider, db } = deps;
  const router = new Router({ prefix: BANK_PREFIX });
  router.use(obErrors(deps.logger), requireResourceServerToken(provider, deps.presentedCertificate));

  router.get('/consents/:consentId', async (ctx) => {
    const consent = await getConsent(db, ctx.params.consentId ?? '');
    if (!consent) throw new ConsentNotFound();
    ctx.set('cache-control', 'no-store');
    ctx.body = bankConsentBody(consent);
  });

  router.post('/payment-consents/:consentId/consume', async (ctx) => {
    const actor = { kind: 'resource_server' as const, id: resourceServerOf(ctx) };
    const consent = await consumePaymentConsent(db, { consentId: ctx.params.consentId ?? '', actor });
    ctx.set('cache-control', 'no-store');
    ctx.body = bankConsentBody(consent);
  });

  vrpPaymentRoute(router, db);
  return router;
}
