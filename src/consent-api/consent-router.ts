import { Router } from '@koa/router';
import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { Logger } from 'pino';
import type { AccountDirectory } from '../customers/account-directory.ts';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from '../http/client-certificate.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import { consentOperationIds, OB_API_PREFIX, OB_V4_API_PREFIX } from '../protocol/routes.ts';
import type { Consent } from '../consents/consent.ts';
import { ConsentNotFound } from '../consents/consent-errors.ts';
import { parseConsentRequest } from '../uk-ob-v3/consent-request.ts';
import { createConsent, getConsentForClient, withdrawConsentForClient } from '../consents/consent-service.ts';
import { readJson } from '../ob-api/request-body.ts';
import { fapiInteractionId, idempotencyOf, obV4RateLimitHeaders } from './consent-api-steps.ts';
import { CONSENT_RESOURCES, type ConsentResource } from './consent-resources.ts';
import { ObError, obErrors } from '../ob-api/ob-error.ts';
import { vrpFundsConfirmationRoute } from './vrp-funds-confirmation.ts';
import { obV4ConsentRoutes } from './ob-v4-consent-routes.ts';
import { obV4Envelope } from '../uk-ob-v4/ob-v4-errors.ts';

export interface ConsentApiDeps {
  provider: Provider;
  db: Db;
  presentedCertificate: ClientCertificateReader;
  logger: Logger;
  /** The bank's account directory (server.ts): VRP funds confirmation asks it. */
  accounts: AccountDirectory;
}

function respond(ctx: Context, resource: ConsentResource, issuer: string, consent: Consent, status: number) {
  ctx.status = status;
  ctx.body = resource.body(consent, `${issuer}${OB_API_PREFIX}${resource.path}/${consent.id}`);
}

/**
 * The TPP-facing UK OB consent API, v3.1 and v4.0 (ob-v4-consent-routes.ts), mounted through the route
 * table: each route's row names the token and scope the guard checks (a TPP's role is the scope of the
 * consent type). Each route: interaction id -> guard -> input -> service -> UK OB body. Errors leave in
 * the UK OB envelope of the version the path names (service errors through ob-api/ob-errors.ts; another
 * TPP's consent answers exactly like one that does not exist).
 */
export function consentApiRouter(deps: ConsentApiDeps) {
  const { provider, db } = deps;
  const router = new Router();
  router.use(OB_API_PREFIX, obErrors(deps.logger));
  router.use(OB_V4_API_PREFIX, obV4RateLimitHeaders, obErrors(deps.logger, obV4Envelope));
  router.use(fapiInteractionId);
  const routes = declaredRoutes(router, deps);

  for (const resource of CONSENT_RESOURCES) {
    const operations = consentOperationIds(resource.type);

    routes.client(operations.create, async (ctx) => {
      const { clientId } = ctx.state.caller;
      const body = await readJson(ctx);
      const idempotency = idempotencyOf(ctx, body, resource.idempotencyRequired);
      const parsed = parseConsentRequest(resource.type, body);
      if (!parsed.ok) throw new ObError(400, 'the consent request is not valid', parsed.problems);
      const { consent } = await createConsent(db, { clientId, draft: parsed.draft, idempotency });
      respond(ctx, resource, provider.issuer, consent, 201);
    });

    routes.client(operations.get, async (ctx) => {
      const consent = await getConsentForClient(db, ctx.state.caller.clientId, ctx.params.consentId ?? '');
      if (consent?.type !== resource.type) throw new ConsentNotFound();
      respond(ctx, resource, provider.issuer, consent, 200);
    });

    routes.client(operations.delete, async (ctx) => {
      if (!resource.deletable) throw ObError.of(405, 'UK.OBIE.Field.Unexpected', `${resource.title}s cannot be deleted`);
      const { clientId } = ctx.state.caller;
      const consent = await getConsentForClient(db, clientId, ctx.params.consentId ?? '');
      if (consent?.type !== resource.type) throw new ConsentNotFound();
      await withdrawConsentForClient(db, clientId, consent.id);
      ctx.status = 204;
    });
  }
  vrpFundsConfirmationRoute(routes, deps);
  obV4ConsentRoutes(routes, deps);
  return router;
}
