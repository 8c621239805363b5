import { randomUUID } from 'node:crypto';
import { decodeJwt } from 'jose';
import { errors, type KoaContextWithOIDC } from 'oidc-provider';
import type { Logger } from 'pino';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import { bindingOfRequest, draftConsentOfInteraction } from '../uk-ob-v3/consent-binding.ts';
import type { Consent } from '../consents/consent.ts';
import { findCustomer, getActiveCustomer } from '../customers/customer-service.ts';
import type { Db } from '../db/connect.ts';
import { toOAuthError } from '../oidc/oauth-errors.ts';
import type { CibaSettings } from '../oidc/provider.ts';
import { BINDING_MESSAGE } from '../protocol/ciba.ts';
import { getClientDisplay } from '../tpp/tpp-service.ts';
import type { TriggerAuthenticationDevice } from './authentication-device.ts';
import { insertDecoupledRequest } from './decoupled-repository.ts';

/**
 * oidc-provider's CIBA hooks: who the hint names, what the request must carry (a consent, a binding
 * message), and what happens once it is accepted (recorded for the customer's authentication device).
 * Every hint that names no customer gets a fresh id the provider accepts like a customer's, so the
 * answer, and the work behind it, is the same whether or not the customer exists.
 */

export interface BackchannelDeps {
  db: Db;
  logger: Logger;
  trigger: TriggerAuthenticationDevice;
  /** Returned to the TPP as `interval`; polling faster earns slow_down (poll-guard.ts). */
  pollIntervalSeconds: number;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * A claim of the signed request object as the TPP sent it. The engine hands the hooks every claim as a
 * string (String(1234) is "1234"), so a JSON number would pass for text; it is read here before that.
 */
function claimAsSent(ctx: KoaContextWithOIDC, name: string): unknown {
  const request = (ctx.oidc.body as Record<string, unknown> | undefined)?.request;
  if (typeof request !== 'string') return (ctx.oidc.params as Record<string, unknown> | undefined)?.[name];
  try {
    return decodeJwt(request)[name];
  } catch (cause) {
    throw new errors.InvalidRequestObject('the request object is not a signed JWT', { cause });
  }
}

/** The customer a username names, or an id that names no one (never an error: no enumeration). */
async function customerIdOf(db: Db, username: string | undefined): Promise<string> {
  return (username && (await findCustomer(db, username))?.id) || randomUUID();
}

/**
 * login_hint_token: a JWT carrying an RFC 9493 subject identifier, `sub_id: {format: "opaque", id:
 * <username>}`. Its signature is not what protects it: the whole request is a signed request object.
 */
function usernameOfHintToken(token: string): string {
  let claims: Record<string, unknown>;
  try {
    claims = decodeJwt(token);
  } catch (cause) {
    throw new errors.InvalidRequest('login_hint_token must be a JWT', undefined, { cause });
  }
  const subject = claims.sub_id;
  if (!isObject(subject) || subject.format !== 'opaque' || typeof subject.id !== 'string' || subject.id.length === 0) {
    throw new errors.InvalidRequest('login_hint_token must carry sub_id {"format": "opaque", "id": "<username>"}');
  }
  if (typeof claims.exp === 'number' && claims.exp * 1000 <= Date.now()) throw new errors.ExpiredLoginHintToken();
  return subject.id;
}

const HINTS = ['login_hint', 'login_hint_token', 'id_token_hint'] as const;

/**
 * CIBA 7.1: one hint names the customer. The engine says so only after the binding message is checked,
 * where a request with two hints and no message would hear invalid_binding_message for the wrong fault.
 */
function requireOneHint(params: Record<string, unknown>): void {
  const given = HINTS.filter((name) => typeof params[name] === 'string' && params[name] !== '');
  if (given.length > 1) throw new errors.InvalidRequest(`only one of ${HINTS.join(', ')} may name the customer`);
}

/**
 * A decoupled request must name its consent: by id (the intent claim, or authorization_details with a
 * consent_id), or as authorization_details describing it, which become the consent once accepted.
 */
function requireConsent(params: Record<string, unknown>): void {
  let binding;
  try {
    binding = bindingOfRequest(params as { claims?: unknown; authorization_details?: unknown });
  } catch (error) {
    throw toOAuthError(error);
  }
  if (!binding)
    throw new errors.InvalidRequest(
      'a decoupled request must name its consent: claims.id_token.openbanking_intent_id or authorization_details',
    );
}

/** The consent of an accepted request; authorization_details that describe one are drafted into it, keyed by the request. */
async function consentOf(db: Db, authReqId: string, params: Record<string, unknown>): Promise<Consent | undefined> {
  try {
    return await draftConsentOfInteraction(db, { cid: authReqId, params });
  } catch (error) {
    throw toOAuthError(error);
  }
}

export function backchannelHooks(deps: BackchannelDeps): CibaSettings['hooks'] {
  const { db } = deps;
  return {
    processLoginHint(ctx, hint) {
      if (typeof claimAsSent(ctx, 'login_hint') !== 'string')
        throw new errors.InvalidRequest("login_hint must be a string (the customer's username)");
      return customerIdOf(db, hint);
    },
    processLoginHintToken: (_ctx, token) => customerIdOf(db, usernameOfHintToken(token ?? '')),
    async verifyUserCode(_ctx, _account, userCode) {
      // The one-time code is entered on the customer's own device, never handed to the TPP.
      if (userCode !== undefined) throw new errors.InvalidRequest('user_code is not supported');
    },
    async validateBindingMessage(ctx, message) {
      if (message === undefined)
        throw new errors.InvalidBindingMessage('binding_message is required: the customer matches it with what the TPP shows');
      if (typeof claimAsSent(ctx, 'binding_message') !== 'string' || !BINDING_MESSAGE.test(message))
        throw new errors.InvalidBindingMessage(
          'binding_message must be a string of 1 to 40 letters, digits, spaces or . , : ; ! ? # + / _ -',
        );
    },
    // request_context is not used; this is the hook that sees the request before it is accepted, so
    // the consent is required here (the claims and authorization_details hooks already checked it).
    // The engine runs it beside validateBindingMessage and answers the first refusal, this one's.
    async validateRequestContext(ctx) {
      requireOneHint(ctx.oidc.params as Record<string, unknown>);
      requireConsent(ctx.oidc.params as Record<string, unknown>);
    },
    async triggerAuthenticationDevice(ctx: KoaContextWithOIDC, request, account, client) {
      const params = ctx.oidc.params as Record<string, unknown>;
      // A disabled customer is nobody to tell, like one who does not exist (same answer to the TPP).
      const customer = await getActiveCustomer(db, account.accountId);
      const consent = await consentOf(db, request.jti, { ...params, client_id: client.clientId });
      if (!consent) throw new errors.InvalidRequest('the consent this request names no longer exists');
      const consentId = consent.id;
      const bindingMessage = String(params.binding_message);
      // The provider's own instant, as it stored it: a lifetime counted from this later insert would outlive
      // the provider's request, and a poll between the two ends would hear invalid_grant, not expired_token.
      // A request already gone (a requested_expiry shorter than this hook's wait) ends now.
      const stored = await ctx.oidc.provider.BackchannelAuthenticationRequest.find(request.jti);
      const endsAt = new Date((stored?.exp ?? Math.floor(Date.now() / 1000)) * 1000);
      const { id, expires_at: expiresAt } = await db.transaction().execute(async (trx) => {
        const inserted = await insertDecoupledRequest(
          trx,
          {
            auth_req_id: request.jti,
            client_id: client.clientId,
            customer_id: customer?.id ?? null,
            consent_id: consentId,
            binding_message: bindingMessage,
            scope: request.scope ?? '',
            resource: typeof request.resource === 'string' ? request.resource : null,
          },
          { at: endsAt },
        );
        await appendAuditEvent(trx, {
          subjectType: 'decoupled_request',
          subjectId: inserted.id,
          event: 'decoupled_request.requested',
          actor: { kind: 'tpp', id: client.clientId },
          details: { consentId, customerId: customer?.id ?? null, expiresAt: inserted.expires_at.toISOString() },
        });
        return inserted;
      });
      // CIBA's interval: the response is already built when this hook runs.
      Object.assign(ctx.body as object, { interval: deps.pollIntervalSeconds });
      if (!customer) return;
      // Not awaited: the TPP's answer neither waits for the bank's push channel nor depends on it.
      const notify = async () => {
        const tpp = await getClientDisplay(db, client.clientId);
        await deps.trigger({
          requestId: id,
          customerId: customer.id,
          clientId: client.clientId,
          tppName: tpp?.name ?? client.clientName ?? client.clientId,
          bindingMessage,
          consentId,
          expiresAt,
        });
      };
      notify().catch((error: unknown) =>
        deps.logger.warn({ err: error, requestId: id }, 'the authentication device could not be told of a decoupled request'),
      );
    },
  };
}
