import { Router } from '@koa/router';
import type { Consent } from '../consents/consent.ts';
import { createConsent, getConsentForClient, withdrawConsentForClient } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import { readJsonBody } from '../http/json-body.ts';
import { authorisationIn, type BgRouteState, mountAuthorisationRoutes, scaCapabilities } from './bg-authorisation-routes.ts';
import { accessConsentDraftOf, consentCreatedBody, consentInformationBody, consentStatusBody } from './bg-consent-mapping.ts';
import { parseConsentRequest } from './bg-consent-request.ts';
import { BgError } from './bg-error.ts';
import { readBgHeaders } from './bg-headers.ts';
import { type BgResource, chooseScaApproach, createdLinks, resourcePath, scaApproachHeader } from './bg-links.ts';
import type { AccessConsent } from './bg-model.ts';
import { type BgRouterDeps, eidasRoutes } from './eidas-routes.ts';

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

const consentResource = (consentId: string): BgResource => ({ service: 'AIS', consentId });

const consentUnknown = () => BgError.of('CONSENT_UNKNOWN', 'no such consent of this TPP', { addressed: 'path', path: 'consentId' });

/** The TPP's own Berlin Group consent, or CONSENT_UNKNOWN. */
async function ownConsent(db: Db, clientId: string, consentId: string | undefined): Promise<Consent & AccessConsent> {
  const consent = await getConsentForClient(db, clientId, consentId ?? '');
  if (!consent || consent.standard !== 'berlin_group' || consent.type !== 'account_access') throw consentUnknown();
  return consent;
}

export function aisRouter(deps: BgRouterDeps): Router {
  const { db, issuer } = deps;
  const router = new Router();
  const routes = eidasRoutes<BgRouteState>(router, deps.eidasTpp);

  routes.eidas('createConsent', readBgHeaders, async (ctx) => {
    const headers = ctx.state.bgHeaders;
    const clientId = ctx.state.eidasClientId;
    const asked = parseConsentRequest(await readJsonBody(ctx), deps.calendar.dateOf(new Date()));
    const approach = chooseScaApproach(headers, scaCapabilities(deps));
    const draft = accessConsentDraftOf(asked, headers, deps.calendar);
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
    ctx.body = consentInformationBody(await ownConsent(db, ctx.state.eidasClientId, ctx.params.consentId), deps.calendar);
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
