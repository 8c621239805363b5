import { randomUUID } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { z } from 'zod';
import { instantField } from '../admin-instant.ts';
import { appendAuditEvent } from '../../audit/audit-trail.ts';
import { grantsOfAuthorisedConsents, revokeConsentsWithTpp } from '../../consents/consent-service.ts';
import { lookUpCustomer, setCustomerDisabled } from '../../customers/customer-administration.ts';
import { enrolTotp } from '../../customers/customer-service.ts';
import { loadTotpKey } from '../../customers/totp-key.ts';
import { countSessionsOfCustomer } from '../../dashboard/session-service.ts';
import { rotateSigningKeys } from '../../oidc/key-rotation.ts';
import { CONSENT_TYPES } from '../../protocol/consent-types.ts';
import { countTokensOfGrants, destroyBoundTokens, destroyCustomerSessions, destroyTokensIssuedIn } from '../../store/artefacts.ts';
import {
  deleteBlockedCredential,
  insertBlockedCredential,
  listBlockedCredentials,
  normaliseThumbprint,
} from '../../store/blocked-credentials.ts';
import { findClientMetadata } from '../../store/clients.ts';
import { liftClientThrottle, setClientThrottle } from '../../tpp/tpp-service.ts';
import { actorOf, AdminError, operation, reasonField } from '../admin-operation.ts';

/**
 * The incident runbook's commands (docs/incident-response.md): one command per incident, audited with
 * the operator, each answering how many consents and tokens it ended.
 */

const clientId = z.string().min(1).max(200).describe('the TPP client id');
const reason = reasonField;

/** What every incident command answers: how many consents and tokens it ended. */
const ended = { consentsEnded: z.int().min(0), tokensRevoked: z.int().min(0) };
const blockedCredential = z.object({ kind: z.enum(['certificate', 'key']), value: z.string() });
/** A Date the result holds, as JSON carries it. */
const instant = z.date().meta({ type: 'string', format: 'date-time' });

async function clientOrFail(db: Parameters<typeof findClientMetadata>[0], id: string) {
  const metadata = await findClientMetadata(db, id);
  if (!metadata) throw new AdminError('not_found', `no client with client id ${id}`);
  return metadata;
}

/** The credential named by exactly one of --certificate and --kid, as stored in the block list. */
function credentialOf(input: { certificate?: string | undefined; kid?: string | undefined }) {
  if ((input.certificate === undefined) === (input.kid === undefined))
    throw new AdminError('invalid_request', 'name exactly one of certificate (SHA-256 thumbprint) and kid');
  if (input.kid !== undefined) return { kind: 'key' as const, value: input.kid };
  const thumbprint = normaliseThumbprint(input.certificate!);
  if (!thumbprint)
    throw new AdminError(
      'invalid_request',
      'certificate must be a SHA-256 thumbprint: 64 hex digits (colons allowed) or 43 base64url characters',
    );
  return { kind: 'certificate' as const, value: thumbprint };
}

const blockCredential = operation({
  name: 'incident:block-credential',
  summary: "blocks a TPP's compromised client certificate (SHA-256 thumbprint) or key (kid) at once; tokens bound to it die",
  method: 'POST',
  path: '/tpps/:clientId/blocked-credentials',
  input: z.object({ clientId, certificate: z.string().max(200).optional(), kid: z.string().min(1).max(200).optional(), reason }),
  positionals: ['clientId'],
  output: z.object({ clientId: z.string(), blocked: blockedCredential, ...ended, note: z.string().optional() }),
  async run({ db, operator }, input) {
    const metadata = await clientOrFail(db, input.clientId);
    const credential = credentialOf(input);
    // A key's DPoP-bound tokens carry its JWK thumbprint; known when the key is registered by value.
    const jwk =
      credential.kind === 'key'
        ? (metadata.jwks as { keys?: JWK[] } | undefined)?.keys?.find((key) => key.kid === credential.value)
        : undefined;
    const binding =
      credential.kind === 'certificate' ? { 'x5t#S256': credential.value } : jwk && { jkt: await calculateJwkThumbprint(jwk) };
    return db.transaction().execute(async (trx) => {
      const inserted = await insertBlockedCredential(trx, {
        clientId: input.clientId,
        ...credential,
        reason: input.reason,
        blockedBy: operator.id,
      });
      if (!inserted) throw new AdminError('conflict', `that ${credential.kind} of ${input.clientId} is already blocked`);
      const tokensRevoked = binding ? await destroyBoundTokens(trx, input.clientId, binding) : 0;
      await appendAuditEvent(trx, {
        subjectType: 'tpp',
        subjectId: input.clientId,
        event: 'tpp.credential_blocked',
        actor: actorOf(operator),
        after: credential,
        details: { reason: input.reason, tokens_revoked: tokensRevoked },
      });
      return {
        clientId: input.clientId,
        blocked: credential,
        consentsEnded: 0,
        tokensRevoked,
        ...(credential.kind === 'key' &&
          !jwk && {
            note: 'the key is not registered by value (jwks_uri?): no tokens were found bound to it; ask the TPP to remove it from its JWKS',
          }),
      };
    });
  },
});

const unblockCredential = operation({
  name: 'incident:unblock-credential',
  summary: 'lifts a block on a certificate or key (tokens it killed stay dead)',
  method: 'POST',
  path: '/tpps/:clientId/blocked-credentials/removal',
  input: z.object({ clientId, certificate: z.string().max(200).optional(), kid: z.string().min(1).max(200).optional(), reason }),
  positionals: ['clientId'],
  output: z.object({ clientId: z.string(), unblocked: blockedCredential }),
  async run({ db, operator }, input) {
    const credential = credentialOf(input);
    return db.transaction().execute(async (trx) => {
      const removed = await deleteBlockedCredential(trx, { clientId: input.clientId, ...credential });
      if (Number(removed.numDeletedRows) === 0)
        throw new AdminError('not_found', `that ${credential.kind} of ${input.clientId} is not blocked`);
      await appendAuditEvent(trx, {
        subjectType: 'tpp',
        subjectId: input.clientId,
        event: 'tpp.credential_unblocked',
        actor: actorOf(operator),
        before: credential,
        details: { reason: input.reason },
      });
      return { clientId: input.clientId, unblocked: credential };
    });
  },
});

const listBlocked = operation({
  name: 'incident:blocked-credentials',
  summary: 'lists blocked certificates and keys, optionally of one TPP',
  method: 'GET',
  path: '/blocked-credentials',
  input: z.object({ clientId: clientId.optional() }),
  format: 'jsonl',
  run: ({ db }, input) => listBlockedCredentials(db, input.clientId),
});

const withdrawKeys = operation({
  name: 'keys:withdraw',
  summary: "Assent's signing keys are compromised: new keys sign now, the current ones leave the JWKS now",
  method: 'POST',
  path: '/keys/withdrawal',
  input: z.object({ reason }),
  output: z.object({
    created: z.array(z.object({ kid: z.string(), alg: z.string(), activatesAt: instant })),
    retiring: z.array(z.object({ kid: z.string(), retiresAt: instant })),
    ...ended,
    otherInstancesWithinSeconds: z.int(),
  }),
  async run({ db, config, operator, signingKeysChanged }, input) {
    if (config.signingKeysFile)
      throw new AdminError(
        'conflict',
        'signing keys come from SIGNING_KEYS_FILE: replace the keys in that file and restart every instance',
      );
    const rotation = await rotateSigningKeys(
      db,
      { activationDelaySeconds: 0, retireAfterSeconds: 0, compromised: input.reason },
      operator.id,
    );
    await signingKeysChanged?.();
    // Access tokens are opaque (looked up, not verified by signature): they stand. What the old keys
    // signed (ID tokens, signed introspection and JARM responses) no longer verifies against the JWKS.
    return { ...rotation, consentsEnded: 0, tokensRevoked: 0, otherInstancesWithinSeconds: config.keyRotation.refreshIntervalSeconds };
  },
});

const lockDown = operation({
  name: 'customer:lockdown',
  summary: 'account takeover: revokes all their consents, ends every session, disables sign-in, resets the authenticator',
  method: 'POST',
  path: '/customers/:customer/lockdown',
  input: z.object({ customer: z.string().min(1).max(200).describe('customer id or username'), reason }),
  positionals: ['customer'],
  output: z.object({
    id: z.string(),
    username: z.string(),
    disabled: z.literal(true),
    ...ended,
    consentIds: z.array(z.string()),
    sessionsEnded: z.int().min(0),
    otpauthUri: z.string().describe('the new authenticator, for the genuine customer through a verified channel'),
  }),
  async run({ db, config, operator }, input) {
    const customer = await lookUpCustomer(db, input.customer);
    if (!customer) throw new AdminError('not_found', `no customer ${input.customer}`);
    const actor = actorOf(operator);
    // Sign-in first, so the intruder cannot start anything new while the rest is taken down.
    const dashboardSessions = await countSessionsOfCustomer(db, customer.id);
    if (!customer.disabledAt) await setCustomerDisabled(db, customer, { disabled: true, reason: input.reason, actor });
    const tokensRevoked = await countTokensOfGrants(db, await grantsOfAuthorisedConsents(db, customer.id));
    const revoked = await revokeConsentsWithTpp(db, { customerId: customer.id, actor, reason: input.reason });
    const providerSessions = await destroyCustomerSessions(db, customer.id);
    const totpKey = await loadTotpKey(db, { devMode: config.devMode, configured: config.sca.totpEncryptionKey });
    const { otpauthUri } = await enrolTotp(db, totpKey, customer, actor, config.branding.bankName);
    return {
      id: customer.id,
      username: customer.username,
      disabled: true,
      consentsEnded: revoked.length,
      consentIds: revoked.map((consent) => consent.id),
      tokensRevoked,
      sessionsEnded: dashboardSessions + providerSessions,
      // For the genuine customer, through a verified channel, once they are back in control.
      otpauthUri,
    };
  },
});

const revokeIssued = operation({
  name: 'tokens:revoke-issued',
  summary: 'bad release: revokes every code and token issued in [from, to), optionally of one client or consent type',
  method: 'POST',
  path: '/tokens/revocation',
  input: z.object({
    from: instantField('issued at or after'),
    to: instantField('issued before'),
    clientId: clientId.optional(),
    consentType: z.enum(CONSENT_TYPES).optional(),
    reason,
    dryRun: z.union([z.boolean(), z.stringbool()]).default(false).describe('count only, change nothing'),
  }),
  output: z.object({
    dryRun: z.literal(true).optional(),
    incidentId: z.string().optional().describe("the audit trail's subject of this revocation (absent on a dry run)"),
    byModel: z.record(z.string(), z.int().min(0)),
    ...ended,
  }),
  async run({ db, operator }, input) {
    const { from, to } = input;
    if (from >= to) throw new AdminError('invalid_request', 'from must be before to');
    const window = {
      from,
      to,
      ...(input.clientId && { clientId: input.clientId }),
      ...(input.consentType && { consentType: input.consentType }),
    };
    const revoke = async (trx: typeof db) => {
      const byModel = await destroyTokensIssuedIn(trx, window, input.dryRun);
      const tokensRevoked = Object.values(byModel).reduce((sum, n) => sum + n, 0);
      return { byModel, tokensRevoked };
    };
    if (input.dryRun) return { dryRun: true as const, ...(await revoke(db)), consentsEnded: 0 };
    const incidentId = randomUUID();
    return db.transaction().execute(async (trx) => {
      const result = await revoke(trx);
      await appendAuditEvent(trx, {
        subjectType: 'incident',
        subjectId: incidentId,
        event: 'tokens.revoked_in_window',
        actor: actorOf(operator),
        details: { ...input, ...result },
      });
      return { incidentId, ...result, consentsEnded: 0 };
    });
  },
});

const throttle = operation({
  name: 'tpp:throttle',
  summary: 'holds a misbehaving TPP to a lower rate (limit calls per window, over every instance) without suspending it',
  method: 'POST',
  path: '/tpps/:clientId/throttle',
  input: z.object({
    clientId,
    limit: z.coerce.number().int().min(1).max(1_000_000),
    windowSeconds: z.coerce.number().int().min(1).max(86_400).default(60),
    reason,
  }),
  positionals: ['clientId'],
  output: z.object({ clientId: z.string(), limit: z.int(), windowSeconds: z.int(), ...ended }),
  async run({ db, operator }, input) {
    await clientOrFail(db, input.clientId);
    return db.transaction().execute(async (trx) => {
      const before = await setClientThrottle(trx, input.clientId, input);
      await appendAuditEvent(trx, {
        subjectType: 'tpp',
        subjectId: input.clientId,
        event: 'tpp.throttled',
        actor: actorOf(operator),
        before: before ?? null,
        after: { limit: input.limit, window_seconds: input.windowSeconds },
        details: { reason: input.reason },
      });
      return { clientId: input.clientId, limit: input.limit, windowSeconds: input.windowSeconds, consentsEnded: 0, tokensRevoked: 0 };
    });
  },
});

const unthrottle = operation({
  name: 'tpp:unthrottle',
  summary: "lifts a TPP's throttle: the default limits apply again",
  method: 'POST',
  path: '/tpps/:clientId/unthrottle',
  input: z.object({ clientId, reason: reason.optional() }),
  positionals: ['clientId'],
  output: z.object({ clientId: z.string(), throttled: z.literal(false) }),
  async run({ db, operator }, input) {
    return db.transaction().execute(async (trx) => {
      const removed = await liftClientThrottle(trx, input.clientId);
      if (!removed) throw new AdminError('not_found', `TPP ${input.clientId} is not throttled`);
      await appendAuditEvent(trx, {
        subjectType: 'tpp',
        subjectId: input.clientId,
        event: 'tpp.unthrottled',
        actor: actorOf(operator),
        before: removed,
        details: { ...(input.reason && { reason: input.reason }) },
      });
      return { clientId: input.clientId, throttled: false };
    });
  },
});

export const incidentOperations = [
  blockCredential,
  unblockCredential,
  listBlocked,
  withdrawKeys,
  lockDown,
  revokeIssued,
  throttle,
  unthrottle,
];
