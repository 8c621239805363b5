import type { RouterContext } from '@koa/router';
import type { Consent } from '../consents/consent.ts';
import type { ConsentAuthorisation, DecoupledDevice, StartAuthorisation } from '../consents/consent-authorisation.ts';
import { authorisationsOfConsent, startConsentAuthorisation } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import type { DeclaredRoutes } from '../http/declared-routes.ts';
import type { EidasState } from '../tpp/eidas-middleware.ts';
import { assertAuthorisable, authorisationListBody, authorisationStartedBody, scaStatusBody } from './bg-authorisations.ts';
import { BgError } from './bg-error.ts';
import { type BgHeaders, type BgHeaderState, readBgHeaders } from './bg-headers.ts';
import { type BgResource, chooseScaApproach, type ScaApproach, scaApproachHeader } from './bg-links.ts';
import type { Authorisation, ConsentState } from './bg-model.ts';

/**
 * The authorisation sub-resources of a Berlin Group resource, which is always a consent of the model (an AIS
 * consent, or a payment initiation: a payment consent): startXAuthorisation, getXAuthorisation(s) and
 * getXScaStatus over the model's consent authorisations (consents/consent-authorisation.ts), and the
 * approach of a start, implicit (with the resource) or explicit. A router mounts the three rows with its own
 * operationIds and the way it finds the TPP's own resource; nothing here knows which service it is.
 */

export type BgRouteState = EidasState & BgHeaderState;

export interface BgScaDeps {
  db: Db;
  /** The issuer, for the scaOAuth link (its RFC 8414 metadata). */
  issuer: string;
  /** The customer's authentication device for the DECOUPLED approach; without it the bank offers REDIRECT only. */
  decoupled: DecoupledDevice | undefined;
}

const BG_APPROACH = { redirect: 'REDIRECT', decoupled: 'DECOUPLED' } as const satisfies Record<
  ConsentAuthorisation['approach'],
  ScaApproach
>;

/** What the bank offers beyond REDIRECT: DECOUPLED when it has the device. */
export const scaCapabilities = (deps: Pick<BgScaDeps, 'decoupled'>) => ({ decoupled: deps.decoupled !== undefined });

/**
 * The authorisation to start, for the consents service, in this approach: DECOUPLED asks the device of the
 * customer PSU-ID names (chooseScaApproach picks DECOUPLED only with a device and a PSU-ID); `afterCommit`
 * wakes the device once the authorisation is committed.
 */
export async function authorisationIn(
  deps: Pick<BgScaDeps, 'decoupled'>,
  approach: ScaApproach,
  headers: BgHeaders,
  clientId: string,
): Promise<{ start: StartAuthorisation; afterCommit(): void }> {
  if (approach === 'REDIRECT' || !deps.decoupled || headers.psuId === null)
    return { start: { approach: 'redirect' }, afterCommit: () => {} };
  const prepared = await deps.decoupled.prepare({ psuId: headers.psuId, clientId });
  return { start: { approach: 'decoupled', alongside: prepared.alongside }, afterCommit: prepared.afterCommit };
}

/**
 * The approach of an explicit start. The redirect URI is the resource's, given at creation: the authorization
 * accepts exactly it, so another one on the start request is refused, not taken.
 */
function startApproach(deps: Pick<BgScaDeps, 'decoupled'>, headers: BgHeaders, consent: Consent): ScaApproach {
  if (headers.tppRedirectUri !== null && headers.tppRedirectUri !== consent.redirectUri)
    throw BgError.of('FORMAT_ERROR', "TPP-Redirect-URI is the resource's, given when it was created; it cannot change", {
      path: 'TPP-Redirect-URI',
    });
  return chooseScaApproach({ ...headers, tppRedirectUri: consent.redirectUri }, scaCapabilities(deps));
}

/**
 * The consent with its authorisations, each at its stage while the consent awaits the customer: a redirect
 * one is received (how far the customer got in the OAuth flow is not tied to the consent yet); a decoupled
 * one is started while the device's request waits, lapsed once it expired undecided (or was swept, long
 * after).
 */
async function stateOf(deps: BgScaDeps, consent: Consent): Promise<ConsentState> {
  const authorisations = await authorisationsOfConsent(deps.db, consent.id);
  const asked = authorisations.filter((authorisation) => authorisation.approach === 'decoupled').map(({ id }) => id);
  const progress = deps.decoupled && asked.length > 0 ? await deps.decoupled.progress(asked) : new Map();
  const stageOf = ({ id, approach }: ConsentAuthorisation): Authorisation['stage'] =>
    approach === 'redirect' ? 'started' : progress.get(id) === 'asked' ? 'sca_started' : 'lapsed';
  return { ...consent, authorisations: authorisations.map((authorisation) => ({ id: authorisation.id, stage: stageOf(authorisation) })) };
}

/** The TPP's own resource a request addresses, or the service's refusal (CONSENT_UNKNOWN, RESOURCE_UNKNOWN). */
export type OwnResource = (ctx: RouterContext<BgRouteState>) => Promise<{ consent: Consent; resource: BgResource }>;

/** The operationIds of one service's three authorisation rows. */
export interface AuthorisationOperations {
  start: string;
  list: string;
  scaStatus: string;
}

export function mountAuthorisationRoutes(
  routes: Pick<DeclaredRoutes<never, BgRouteState>, 'eidas'>,
  deps: BgScaDeps,
  operations: AuthorisationOperations,
  own: OwnResource,
): void {
  // Checked before the device is readied, and again by the service under the consent's lock (a decision
  // taken in between is STATUS_INVALID all the same): nothing is written for a resource that has ended.
  routes.eidas(operations.start, readBgHeaders, async (ctx) => {
    const clientId = ctx.state.eidasClientId;
    const { consent, resource } = await own(ctx);
    assertAuthorisable(consent);
    const approach = startApproach(deps, ctx.state.bgHeaders, consent);
    const { start, afterCommit } = await authorisationIn(deps, approach, ctx.state.bgHeaders, clientId);
    const { authorisation } = await startConsentAuthorisation(deps.db, { clientId, consentId: consent.id, ...start });
    afterCommit();
    ctx.status = 201;
    ctx.set(scaApproachHeader(BG_APPROACH[authorisation.approach]));
    ctx.body = authorisationStartedBody(await stateOf(deps, consent), resource, authorisation.id, approach, deps.issuer);
  });

  routes.eidas(operations.list, readBgHeaders, async (ctx) => {
    const { consent } = await own(ctx);
    ctx.body = authorisationListBody({ authorisations: await authorisationsOfConsent(deps.db, consent.id) });
  });

  routes.eidas(operations.scaStatus, readBgHeaders, async (ctx) => {
    const { consent } = await own(ctx);
    ctx.body = scaStatusBody(await stateOf(deps, consent), ctx.params.authorisationId ?? '');
  });
}
