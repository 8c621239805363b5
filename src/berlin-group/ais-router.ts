import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Consent } from '../consents/consent.ts';
import { createConsent, getConsentForClient, withdrawConsentForClient } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import { readJsonBody } from '../http/json-body.ts';
import { assertRole } from '../tpp/eidas-identity.ts';
import type { EidasTppMiddleware } from '../tpp/eidas-middleware.ts';
import { bankDateOf } from './bg-bank-time.ts';
import {
  authorisationIn,
  type BgRouteState,
  type BgScaDeps,
  mountAuthorisationRoutes,
  scaCapabilities,
} from './bg-authorisation-routes.ts';
import { accessConsentDraftOf, consentCreatedBody, consentInformationBody, consentStatusBody } from './bg-consent-mapping.ts';
import { parseConsentRequest } from './bg-consent-request.ts';
import { BgError, bgErrors } from './bg-error.ts';
import { readBgHeaders } from './bg-headers.ts';
import { type BgResource, chooseScaApproach, createdLinks, resourcePath, scaApproachHeader } from './bg-links.ts';
import type { AccessConsent } from './bg-model.ts';
import { BG_PREFIX } from './routes.ts';

/**
 * The Berlin Group AIS consent resource (NextGenPSD2 v1.3.x): createConsent, getConsentInformation,
 * getConsentStatus, deleteConsent, and its authorisation sub-resources (startConsentAuthorisation,
 * getConsentAuthorisation, getConsentScaStatus), mounted from their rows behind the eIDAS guard (the TPP's
 * QWAC with the PSP_AI role). Each route: headers -> input -> consents service -> Berlin Group body; every
 * failure leaves through bgErrors as tppMessages. A consent is the TPP's own: another TPP's, or a consent of
 * another standard, is CONSENT_UNKNOWN (403, addressed in the path), as one that does not exist.
 *
 * SCA (bg-links.ts chooseScaApproach, bg-authorisation-routes.ts): REDIRECT is the OAuth2 SCA approach (`_links.scaOAuth`, Assent's FAPI
 * flow asking scope `AIS:<consentId>` with the consent's TPP-Redirect-URI); DECOUPLED sends the
 * authorisation to the device of the customer PSU-ID names (DecoupledDevice, ciba/), who approves or denies
 * it there, and no token is issued. Without TPP-Explicit-Authorisation-Preferred: true an authorisation
 * sub-resource is started with the consent in either approach (implicit start), so the TPP can always poll
 * `_links.scaStatus`; with it, none is, and `_links.startAuthorisation` says where to start one.
 */

/** `issuer` also gives the consent's Location. */
export interface AisRouterDeps extends BgScaDeps {
  logger: Logger;
  /** Identifies the TPP by its QWAC (tpp/eidas-middleware.ts). */
  eidasTpp: EidasTppMiddleware;
}

const consentResource = (consentId: string): BgResource => ({ service: 'AIS', consentId });

const consentUnknown = () => BgError.of('CONSENT_UNKNOWN', 'no such consent of this TPP', { addressed: 'path', path: 'consentId' });

/** The TPP's own Berlin Group consent, or CONSENT_UNKNOWN. */
async function ownConsent(db: Db, clientId: string, consentId: string | undefined): Promise<Consent & AccessConsent> {
  const consent = await getConsentForClient(db, clientId, consentId ?? '');
  if (!consent || consent.standard !== 'berlin_group' || consent.type !== 'account_access') throw consentUnknown();
  return consent;
}

export function aisRouter(deps: AisRouterDeps): Router {
  const { db, issuer } = deps;
  const router = new Router();
  const routes = declaredRoutes<never, BgRouteState>(router, {
    eidas: { identify: (role) => deps.eidasTpp((tpp) => assertRole(tpp, role)) as Middleware<BgRouteState> },
  });

  routes.eidas('createConsent', readBgHeaders, async (ctx) => {
    const headers = ctx.state.bgHeaders;
    const clientId = ctx.state.eidasClientId;
    const asked = parseConsentRequest(await readJsonBody(ctx), bankDateOf(new Date()));
    const approach = chooseScaApproach(headers, scaCapabilities(deps));
    const draft = accessConsentDraftOf(asked, headers);
    const implicit = headers.tppExplicitAuthorisationPreferred ? undefined : await authorisationIn(deps, approach, headers, clientId);
    const { consent, authorisation } = await createConsent(db, { clientId, draft, ...(implicit && { authorisation: implicit.start }) });
    implicit?.afterCommit();
    const resource = consentResource(consent.id);
    const start = authorisation
      ? ({ explicit: false, approach, authorisationId: authorisation.id } as const)
      : ({ explicit: true } as const);
    ctx.status = 201;
    ctx.set({ ...scaApproachHeader(approach), Location: `${issuer}${resourcePath(resource)}` });
    ctx.body = consentCreatedBody(consent, createdLinks(resource, start, issuer));
  });

  routes.eidas('getConsentInformation', readBgHeaders, async (ctx) => {
    ctx.body = consentInformationBody(await ownConsent(db, ctx.state.eidasClientId, ctx.params.consentId));
  });

  routes.eidas('getConsentStatus', readBgHeaders, async (ctx) => {
    ctx.body = consentStatusBody(await ownConsent(db, ctx.state.eidasClientId, ctx.params.consentId));
  });

  // The service ends it for the TPP in one transaction with its audit event: awaiting the customer,
  // withdrawn (Rejected); authorised, revoked with its grant and every token. Either reads terminatedByTpp.
  routes.eidas('deleteConsent', readBgHeaders, async (ctx) => {
    const consent = await ownConsent(db, ctx.state.eidasClientId, ctx.params.consentId);
    await withdrawConsentForClient(db, ctx.state.eidasClientId, consent.id);
    ctx.status = 204;
  });

  mountAuthorisationRoutes(
    routes,
    deps,
    { start: 'startConsentAuthorisation', list: 'getConsentAuthorisation', scaStatus: 'getConsentScaStatus' },
    async (ctx) => {
      const consent = await ownConsent(db, ctx.state.eidasClientId, ctx.params.consentId);
      return { consent, resource: consentResource(consent.id) };
    },
  );

  return router;
}

const answered = async () => undefined;

const under = (path: string) => path === BG_PREFIX || path.startsWith(`${BG_PREFIX}/`);

/**
 * Everything under /v1 is the Berlin Group's: its routes, and for any other path or method the
 * RESOURCE_UNKNOWN or SERVICE_INVALID of bgErrors; nothing under /v1 reaches the provider.
 */
export function berlinGroupApi(deps: AisRouterDeps): Middleware & { router: Router } {
  const router = aisRouter(deps);
  const [errors, routes, methods] = [bgErrors(deps.logger), router.routes(), router.allowedMethods({ throw: true })];
  const api: Middleware = (ctx, next) =>
    under(ctx.path) ? errors(ctx, () => routes(ctx as never, () => methods(ctx as never, answered) as Promise<unknown>)) : next();
  // As a router's routes() does, it names its router, so the inventory finds what it mounts.
  return Object.assign(api, { router });
}
