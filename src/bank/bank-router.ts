import { Router } from '@koa/router';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import { obErrors } from '../ob-api/ob-error.ts';
import { ConsentNotFound } from '../consents/consent-errors.ts';
import { consumePaymentConsent, getConsent } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import { bankConsentBody } from './bank-consent-body.ts';
import { consentAccessRoute } from './consent-access-route.ts';
import { vrpPaymentRoute } from './vrp-payment-route.ts';

export interface BankApiDeps {
  provider: Provider;
  db: Db;
  presentedCertificate: ClientCertificateReader;
  logger: Logger;
  /** The bank's IANA time zone (BANK_TIME_ZONE): the days a consent's frequencyPerDay counts. */
  bankTimeZone: string;
}

/**
 * The bank's resource servers read any consent, consume payment consents, decide VRP payments and record
 * account accesses; service errors leave in the
 * UK OB envelope through ob-api's one table. Mounted through the route table, whose rows ask for a
 * resource server's token with the `bank` scope (a TPP's is refused, whatever its scope).
 */
export function bankApiRouter(deps: BankApiDeps) {
  const { db } = deps;
  const router = new Router();
  router.use(obErrors(deps.logger));
  const routes = declaredRoutes(router, deps);

  routes.client('getBankConsent', async (ctx) => {
    const consent = await getConsent(db, ctx.params.consentId ?? '');
    if (!consent) throw new ConsentNotFound();
    ctx.set('cache-control', 'no-store');
    ctx.body = bankConsentBody(consent);
  });

  routes.client('consumePaymentConsent', async (ctx) => {
    const actor = { kind: 'resource_server' as const, id: ctx.state.caller.clientId };
    const consent = await consumePaymentConsent(db, { consentId: ctx.params.consentId ?? '', actor });
    ctx.set('cache-control', 'no-store');
    ctx.body = bankConsentBody(consent);
  });

  vrpPaymentRoute(routes, db);
  consentAccessRoute(routes, db, deps.bankTimeZone);
  return router;
}
