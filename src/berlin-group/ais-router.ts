import { Router } from '@koa/router';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import type { Consent } from '../consents/consent.ts';
import type { ConsentAuthorisation, DecoupledDevice, StartAuthorisation } from '../consents/consent-authorisation.ts';
import {
  authorisationsOfConsent,
  createConsent,
  getConsentForClient,
  startConsentAuthorisation,
  withdrawConsentForClient,
} from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import { declaredRoutes } from '../http/declared-routes.ts';
import { readJsonBody } from '../http/json-body.ts';
import { assertRole } from '../tpp/eidas-identity.ts';
import type { EidasState, EidasTppMiddleware } from '../tpp/eidas-middleware.ts';
import { bankDateOf } from './bg-bank-time.ts';
import { assertAuthorisable, authorisationListBody, authorisationStartedBody, scaStatusBody } from './bg-authorisations.ts';
import { accessConsentDraftOf, consentCreatedBody, consentInformationBody, consentStatusBody } from './bg-consent-mapping.ts';
import { parseConsentRequest } from './bg-consent-request.ts';
import { BgError, bgErrors } from './bg-error.ts';
import { type BgHeaders, type BgHeaderState, readBgHeaders } from './bg-headers.ts';
import { type BgResource, chooseScaApproach, createdLinks, resourcePath, type ScaApproach, scaApproachHeader } from './bg-links.ts';
import type { AccessConsent, Authorisation, ConsentState } from './bg-model.ts';
import { BG_PREFIX } from './routes.ts';

/**
 * The Berlin Group AIS consent resource (NextGenPSD2 v1.3.x): createConsent, getConsentInformation,
 * getConsentStatus, deleteConsent, and its authorisation sub-resources (startConsentAuthorisation,
 * getConsentAuthorisation, getConsentScaStatus), mounted from their rows behind the eIDAS guard (the TPP's
 * QWAC with the PSP_AI role). Each route: headers -> input -> consents service -> Berlin Group body; every
 * failure leaves through bgErrors as tppMessages. A consent is the TPP's own: another TPP's, or a consent of
 * another standard, is CONSENT_UNKNOWN (403, addressed in the path), as one that does not exist.
 *
 * SCA (bg-links.ts chooseScaApproach): REDIRECT is the OAuth2 SCA approach (`_links.scaOAuth`, Assent's FAPI
 * flow asking scope `AIS:<consentId>` with the consent's TPP-Redirect-URI); DECOUPLED sends the
 * authorisation to the device of the customer PSU-ID names (DecoupledDevice, ciba/), who approves or denies
 * it there, and no token is issued. Without TPP-Explicit-Authorisation-Preferred: true an authorisation
 * sub-resource is started with the consent in either approach (implicit start), so the TPP can always poll
 * `_links.scaStatus`; with it, none is, and `_links.startAuthorisation` says where to start one.
 */

export interface AisRouterDeps {
  db: Db;
  logger: Logger;
  /** The issuer, for the scaOAuth link (its RFC 8414 metadata) and Location. */
  issuer: string;
  /** Identifies the TPP by its QWAC (tpp/eidas-middleware.ts). */
  eidasTpp: EidasTppMiddleware;
  /** The customer's authentication device for the DECOUPLED approach; without it the bank offers REDIRECT only. */
  decoupled: DecoupledDevice | undefined;
}

type AisState = EidasState & BgHeaderState;

const consentUnknown = () => BgError.of('CONSENT_UNKNOWN', 'no such consent of this TPP', { addressed: 'path', path: 'consentId' });

/** The TPP's own Berlin Group consent, or CONSENT_UNKNOWN. */
async function ownConsent(db: Db, clientId: string, consentId: string | undefined): Promise<Consent & AccessConsent> {
  const consent = await getConsentForClient(db, clientId, consentId ?? '');
  if (!consent || consent.standard !== 'berlin_group' || consent.type !== 'account_access') throw consentUnknown();
  return consent;
}

const MODEL_APPROACH = { REDIRECT: 'redirect', DECOUPLED: 'decoupled' } as const satisfies Record<ScaApproach, string>;
const BG_APPROACH = { redirect: 'REDIRECT', decoupled: 'DECOUPLED' } as const satisfies Record<
  ConsentAuthorisation['approach'],
  ScaApproach
>;

const consentResource = (consentId: string): BgResource => ({ service: 'AIS', consentId });

/**
 * The authorisation, as the consents service starts it, in this approach: DECOUPLED asks the device of the
 * customer PSU-ID names (chooseScaApproach picks DECOUPLED only with a PSU-ID); `afterCommit` wakes it.
 */
async function authorisationIn(
  device: DecoupledDevice | undefined,
  approach: ScaApproach,
  headers: BgHeaders,
  clientId: string,
): Promise<{ start: StartAuthorisation; afterCommit(): void }> {
  if (approach === 'REDIRECT' || !device || headers.psuId === null) return { start: { approach: 'redirect' }, afterCommit: () => {} };
  const prepared = await device.prepare({ psuId: headers.psuId, clientId });
  return { start: { approach: MODEL_APPROACH[approach], alongside: prepared.alongside }, afterCommit: prepared.afterCommit };
}

/**
 * The approach of an explicit start. The redirect URI is the consent's, given at creation: the authorization
 * of the consent accepts exactly it, so another one on the start request is refused, not taken.
 */
function startApproach(headers: BgHeaders, consent: Consent, decoupled: boolean): ScaApproach {
  if (headers.tppRedirectUri !== null && headers.tppRedirectUri !== consent.redirectUri)
    throw BgError.of('FORMAT_ERROR', "TPP-Redirect-URI is the consent's, given when it was created; it cannot change", {
      path: 'TPP-Redirect-URI',
    });
  return chooseScaApproach({ ...headers, tppRedirectUri: consent.redirectUri }, { decoupled });
}

export function aisRouter(deps: AisRouterDeps): Router {
  const { db, issuer, decoupled } = deps;
  const capabilities = { decoupled: decoupled !== undefined };
  const router = new Router();
  const routes = declaredRoutes<never, AisState>(router, {
    eidas: { identify: (role) => deps.eidasTpp((tpp) => assertRole(tpp, role)) as Middleware<AisState> },
  });

  /**
   * The consent with its authorisations, each at its stage while the consent awaits the customer: a redirect
   * one is received (how far the customer got in the OAuth flow is not tied to the consent yet); a
   * decoupled one is started while the device's request waits, lapsed once it expired undecided (or was
   * swept, long after).
   */
  async function stateOf(consent: Consent): Promise<ConsentState> {
    const authorisations = await authorisationsOfConsent(db, consent.id);
    const asked = authorisations.filter((authorisation) => authorisation.approach === 'decoupled').map(({ id }) => id);
    const progress = decoupled && asked.length > 0 ? await decoupled.progress(asked) : new Map();
    const stageOf = ({ id, approach }: ConsentAuthorisation): Authorisation['stage'] =>
      approach === 'redirect' ? 'started' : progress.get(id) === 'asked' ? 'sca_started' : 'lapsed';
    return { ...consent, authorisations: authorisations.map((authorisation) => ({ id: authorisation.id, stage: stageOf(authorisation) })) };
  }

  routes.eidas('createConsent', readBgHeaders, async (ctx) => {
    const headers = ctx.state.bgHeaders;
    const clientId = ctx.state.eidasClientId;
    const asked = parseConsentRequest(await readJsonBody(ctx), bankDateOf(new Date()));
    const approach = chooseScaApproach(headers, capabilities);
    const draft = accessConsentDraftOf(asked, headers);
    const implicit = headers.tppExplicitAuthorisationPreferred ? undefined : await authorisationIn(decoupled, approach, headers, clientId);
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

  // Checked before the device is readied, and again by the service under the consent's lock (a decision
  // taken in between is STATUS_INVALID all the same): nothing is written for a consent that has ended.
  routes.eidas('startConsentAuthorisation', readBgHeaders, async (ctx) => {
    const headers = ctx.state.bgHeaders;
    const clientId = ctx.state.eidasClientId;
    const consent = await ownConsent(db, clientId, ctx.params.consentId);
    assertAuthorisable(consent);
    const approach = startApproach(headers, consent, capabilities.decoupled);
    const { start, afterCommit } = await authorisationIn(decoupled, approach, headers, clientId);
    const { authorisation } = await startConsentAuthorisation(db, { clientId, consentId: consent.id, ...start });
    afterCommit();
    const resource = consentResource(consent.id);
    ctx.status = 201;
    ctx.set(scaApproachHeader(BG_APPROACH[authorisation.approach]));
    ctx.body = authorisationStartedBody(await stateOf(consent), resource, authorisation.id, approach, issuer);
  });

  routes.eidas('getConsentAuthorisation', readBgHeaders, async (ctx) => {
    const consent = await ownConsent(db, ctx.state.eidasClientId, ctx.params.consentId);
    ctx.body = authorisationListBody({ authorisations: await authorisationsOfConsent(db, consent.id) });
  });

  routes.eidas('getConsentScaStatus', readBgHeaders, async (ctx) => {
    const consent = await ownConsent(db, ctx.state.eidasClientId, ctx.params.consentId);
    ctx.body = scaStatusBody(await stateOf(consent), ctx.params.authorisationId ?? '');
  });

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
