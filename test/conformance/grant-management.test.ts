import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { getConsent, revokeConsent } from '../../src/consents/consent-service.ts';
import { CONSENT_AUTHORIZATION_REVOKED } from '../../src/protocol/event-types.ts';
import { DISCOVERY_PATH, GRANTS_PATH } from '../../src/protocol/routes.ts';
import { SCOPE } from '../../src/protocol/scopes.ts';
import { tlsAgent } from '../support/assent.ts';
import { type ApiResponse, ConsentApiClient } from '../support/consent-api.ts';
import { conformanceTestName, variantLabel } from '../support/conformance.ts';
import { approveConsent, customerWithAccounts, type GrantedConsent, grantConsent } from '../support/granted-consents.ts';
import { useAssent, useResourceServer } from '../support/fixture.ts';
import { createTestTpp, pushAuthorizationRequest, type TestTpp } from '../support/tpp.ts';
import { GRANT_MANAGEMENT_PLAN, GRANT_MANAGEMENT_VARIANTS } from './plans/grant-management.ts';

/**
 * Grant Management for OAuth 2.0, requirement by requirement (plans/grant-management.ts: the suite has no
 * plan for it), in each client authentication with its sender constraint: the TPP authorizes through
 * PAR and the customer's consent page, then manages the grant through the Grant Management API with a
 * client_credentials token of the draft's scopes.
 */

const { grantManagementQuery: QUERY, grantManagementRevoke: REVOKE } = SCOPE;
const TPP_SCOPE = `openid accounts payments fundsconfirmations ${QUERY} ${REVOKE}`;

const grantIdOf = (granted: GrantedConsent) => (granted.tokens as unknown as { grant_id?: string }).grant_id;

/** The Grant Management API refused with this status and error, and nothing of it may be cached. */
const assertRefusedApi = (answer: ApiResponse, status: number, error: string) => {
  assert.equal(answer.status, status, JSON.stringify(answer.body));
  assert.equal((answer.body as { error?: string }).error, error);
  assert.equal(answer.headers.get('cache-control'), 'no-store');
};

describe('grant-management', () => {
  const assent = useAssent();
  const rs = useResourceServer(assent);

  /** The Grant Management API as `client`, with a client_credentials token of `scope`. */
  async function grants(client: TestTpp, method: 'GET' | 'DELETE', grantId: string, scope = method === 'GET' ? QUERY : REVOKE) {
    const api = await ConsentApiClient.create(assent, client, scope);
    return api.call(method, `${GRANTS_PATH}/${encodeURIComponent(grantId)}`);
  }

  for (const variant of GRANT_MANAGEMENT_VARIANTS) {
    describe(variantLabel(variant), { concurrency: true }, () => {
      const mtls = variant.client_auth_type === 'mtls';
      const senderConstraint = mtls ? 'mtls' : 'dpop';
      let tpp: TestTpp;
      let other: TestTpp;
      /** A grant of `tpp` the refusals name (never changed by them). */
      let standing: GrantedConsent;
      before(async () => {
        const metadata = { auth: mtls ? ('tls_client_auth' as const) : ('private_key_jwt' as const), metadata: { scope: TPP_SCOPE } };
        [tpp, other] = await Promise.all([createTestTpp(assent, metadata), createTestTpp(assent, metadata)]);
        standing = await granted();
      });

      const module = (name: string, body: () => Promise<void>) => {
        if (!GRANT_MANAGEMENT_PLAN.some((entry) => entry.module === name)) throw new Error(`${name} is not a module of the plan`);
        test(conformanceTestName(name, variant), body);
      };

      /** An account-access consent the customer approved for `tpp`, with its tokens; `parameters` go to PAR. */
      async function granted(parameters: Record<string, string> = {}, holder?: Awaited<ReturnType<typeof customerWithAccounts>>) {
        const { customer, current } = holder ?? (await customerWithAccounts(assent));
        return grantConsent(assent, tpp, customer, { type: 'account_access', accounts: [current], senderConstraint, parameters });
      }

      /** PAR refuses these grant management parameters: its OAuth error. */
      async function refusedAtPar(parameters: Record<string, string>, client = tpp) {
        const error = await pushAuthorizationRequest(client, { scope: 'openid accounts', ...parameters }).then(
          () => undefined,
          (caught: unknown) => caught as { error?: string; status?: number; error_description?: string },
        );
        assert.ok(error, `PAR accepted ${JSON.stringify(parameters)}`);
        assert.equal(error.status, 400, JSON.stringify(error));
        return error.error;
      }

      const standingUnchanged = async () => {
        assert.equal((await getConsent(assent.db, standing.consentId))?.status, 'Authorised', 'the grant named was left as it was');
        assert.equal((await rs.introspect(standing.tokens.access_token)).active, true);
      };

      module('grant-management-create-issues-new-grant', async () => {
        const customer = await customerWithAccounts(assent);
        const first = await granted({ grant_management_action: 'create' }, customer);
        const second = await granted({ grant_management_action: 'create' }, customer);
        assert.ok(grantIdOf(first) && grantIdOf(second));
        assert.notEqual(grantIdOf(second), grantIdOf(first), 'create makes a new grant, even for the same customer and client');
        assert.equal((await rs.introspect(first.tokens.access_token)).active, true, 'the first grant lives on');
      });

      module('grant-management-ensure-create-with-grant-id-fails', async () => {
        assert.equal(await refusedAtPar({ grant_management_action: 'create', grant_id: grantIdOf(standing)! }), 'invalid_request');
        await standingUnchanged();
      });

      module('grant-management-ensure-grant-id-without-action-fails', async () => {
        assert.equal(await refusedAtPar({ grant_id: grantIdOf(standing)! }), 'invalid_request');
        await standingUnchanged();
      });

      module('grant-management-ensure-unknown-action-fails', async () => {
        assert.equal(await refusedAtPar({ grant_management_action: 'update', grant_id: grantIdOf(standing)! }), 'invalid_request');
        await standingUnchanged();
      });

      module('grant-management-ensure-merge-without-grant-id-fails', async () => {
        assert.equal(await refusedAtPar({ grant_management_action: 'merge' }), 'invalid_request');
      });

      module('grant-management-ensure-replace-without-grant-id-fails', async () => {
        assert.equal(await refusedAtPar({ grant_management_action: 'replace' }), 'invalid_request');
      });

      module('grant-management-ensure-unknown-grant-id-fails', async () => {
        assert.equal(await refusedAtPar({ grant_management_action: 'merge', grant_id: 'no-such-grant' }), 'invalid_grant_id');
        assert.equal(await refusedAtPar({ grant_management_action: 'replace', grant_id: 'no-such-grant' }), 'invalid_grant_id');
      });

      module('grant-management-ensure-other-clients-grant-id-fails', async () => {
        for (const action of ['merge', 'replace'])
          assert.equal(await refusedAtPar({ grant_management_action: action, grant_id: grantIdOf(standing)! }, other), 'invalid_grant_id');
        await standingUnchanged();
      });

      module('grant-management-merge-adds-to-grant', async () => {
        const customer = await customerWithAccounts(assent);
        const first = await granted({}, customer);
        const grantId = grantIdOf(first)!;
        const second = await grantConsent(assent, tpp, customer.customer, {
          type: 'domestic_payment',
          accounts: [customer.savings],
          senderConstraint,
          parameters: { grant_management_action: 'merge', grant_id: grantId },
        });
        assert.equal(grantIdOf(second), grantId, 'the token response names the same grant');
        const introspected = await rs.introspect(second.tokens.access_token);
        assert.equal(introspected.active, true);
        assert.deepEqual(
          (introspected.consents as { consent_id: string }[]).map((consent) => consent.consent_id).toSorted(),
          [first.consentId, second.consentId].toSorted(),
          'the merged grant holds both',
        );
        const described = (await grants(tpp, 'GET', grantId)).body as {
          scopes: { scope: string }[];
          authorization_details: { consent_id: string }[];
        };
        assert.deepEqual(
          described.authorization_details.map((detail) => detail.consent_id).toSorted(),
          [first.consentId, second.consentId].toSorted(),
        );
        const scopes = described.scopes.flatMap((entry) => entry.scope.split(' '));
        assert.ok(scopes.includes('accounts') && scopes.includes('payments'), `the union of scopes: ${scopes.join(' ')}`);
        // The customer ends the first consent: it leaves the grant, which still holds the second.
        await revokeConsent(assent.db, { consentId: first.consentId, actor: { kind: 'customer', id: customer.customer.id } });
        const after = (await grants(tpp, 'GET', grantId)).body as {
          consents: { consent_id: string }[];
          authorization_details: { consent_id: string }[];
        };
        assert.deepEqual(
          after.consents.map((consent) => consent.consent_id),
          [second.consentId],
        );
        assert.deepEqual(
          after.authorization_details.map((detail) => detail.consent_id),
          [second.consentId],
          'what the grant holds now',
        );
      });

      module('grant-management-ensure-merge-into-other-users-grant-fails', async () => {
        const intruder = await customerWithAccounts(assent);
        const approved = await approveConsent(assent, tpp, intruder.customer, {
          type: 'account_access',
          accounts: [intruder.current],
          senderConstraint,
          parameters: { grant_management_action: 'merge', grant_id: grantIdOf(standing)! },
        }).then(
          (answer) => answer.callback,
          (error: unknown) => error as Error,
        );
        if (approved instanceof URL) assert.equal(approved.searchParams.get('error'), 'access_denied', approved.href);
        else assert.match(approved.message, /access_denied|consent page/);
        await standingUnchanged();
        const described = (await grants(tpp, 'GET', grantIdOf(standing)!)).body as { consents: { consent_id: string }[] };
        assert.deepEqual(
          described.consents.map((consent) => consent.consent_id),
          [standing.consentId],
          "nothing of the other customer's joined the grant",
        );
      });

      module('grant-management-replace-replaces-grant', async () => {
        const customer = await customerWithAccounts(assent);
        const first = await granted({}, customer);
        const grantId = grantIdOf(first)!;
        const second = await granted({ grant_management_action: 'replace', grant_id: grantId }, customer);
        assert.equal(grantIdOf(second), grantId, 'the grant keeps its id');
        assert.equal((await getConsent(assent.db, first.consentId))?.status, 'Revoked', 'what the grant held before is gone');
        assert.equal((await rs.introspect(first.tokens.access_token)).active, false, 'and its tokens with it');
        const described = (await grants(tpp, 'GET', grantId)).body as {
          consents: { consent_id: string }[];
          authorization_details: { consent_id: string }[];
        };
        assert.deepEqual(
          described.consents.map((consent) => consent.consent_id),
          [second.consentId],
          'the grant holds the new consent only',
        );
        assert.deepEqual(
          described.authorization_details.map((detail) => detail.consent_id),
          [second.consentId],
        );
      });

      module('grant-management-token-response-returns-grant-id', async () => {
        const first = grantIdOf(standing);
        assert.match(first ?? '', /^[A-Za-z0-9_-]{22,}$/, 'an opaque grant_id of at least 128 bits');
        const refreshed = await oidc.refreshTokenGrant(
          tpp.config,
          standing.tokens.refresh_token!,
          undefined,
          mtls ? undefined : { DPoP: standing.dpop },
        );
        assert.equal((refreshed as unknown as { grant_id?: string }).grant_id, first, 'a refresh names the same grant');
        const client = await oidc.clientCredentialsGrant(tpp.config, { scope: QUERY }, mtls ? undefined : { DPoP: standing.dpop });
        assert.equal((client as unknown as { grant_id?: string }).grant_id, undefined, 'client credentials have no grant');
      });

      module('grant-management-query-grant', async () => {
        const grantId = grantIdOf(standing)!;
        const answer = await grants(tpp, 'GET', grantId);
        assert.equal(answer.status, 200, JSON.stringify(answer.body));
        assert.equal(answer.headers.get('cache-control'), 'no-store');
        assert.match(answer.headers.get('content-type') ?? '', /^application\/json/);
        const body = answer.body as {
          scopes: { scope: string; resource?: string[] }[];
          claims: string[];
          authorization_details: { type: string; consent_id: string }[];
        };
        assert.ok(Array.isArray(body.scopes) && body.scopes.every((entry) => typeof entry.scope === 'string'));
        assert.ok(body.scopes.some((entry) => entry.scope.split(' ').includes('accounts')));
        assert.ok(body.claims.includes('openbanking_intent_id'));
        assert.deepEqual(
          body.authorization_details.map((detail) => detail.consent_id),
          [standing.consentId],
        );
        assert.equal((answer.body as { access_token?: unknown }).access_token, undefined, 'no token is ever returned');
      });

      module('grant-management-ensure-query-without-access-token-fails', async () => {
        const api = await ConsentApiClient.create(assent, tpp, QUERY);
        const anonymous = await api.raw('GET', `${GRANTS_PATH}/${grantIdOf(standing)}`, {});
        assertRefusedApi(anonymous, 401, 'invalid_token');
        assert.match(anonymous.headers.get('www-authenticate') ?? '', /invalid_token/);
      });

      module('grant-management-ensure-query-without-query-scope-fails', async () => {
        assertRefusedApi(await grants(tpp, 'GET', grantIdOf(standing)!, REVOKE), 403, 'insufficient_scope');
      });

      module('grant-management-ensure-query-unknown-grant-fails', async () => {
        assertRefusedApi(await grants(tpp, 'GET', 'no-such-grant'), 404, 'invalid_grant_id');
      });

      module('grant-management-ensure-query-other-clients-grant-fails', async () => {
        const answer = await grants(other, 'GET', grantIdOf(standing)!);
        assertRefusedApi(answer, 404, 'invalid_grant_id');
        assert.deepEqual(answer.body, (await grants(other, 'GET', 'no-such-grant')).body, 'the same as a grant that does not exist');
      });

      module('grant-management-revoke-grant', async () => {
        const revoked = await granted();
        const grantId = grantIdOf(revoked)!;
        const answer = await grants(tpp, 'DELETE', grantId);
        assert.equal(answer.status, 204, JSON.stringify(answer.body));
        assert.equal((await rs.introspect(revoked.tokens.access_token)).active, false, 'the access token is dead');
        await assert.rejects(
          oidc.refreshTokenGrant(tpp.config, revoked.tokens.refresh_token!, undefined, mtls ? undefined : { DPoP: revoked.dpop }),
          'the refresh token is dead',
        );
        assert.equal((await getConsent(assent.db, revoked.consentId))?.status, 'Revoked');
        const event = await assent.db
          .selectFrom('consent_event')
          .select('reason')
          .where('consent_id', '=', revoked.consentId)
          .where('event_type', '=', CONSENT_AUTHORIZATION_REVOKED)
          .executeTakeFirst();
        assert.ok(event, 'the TPP is told through its event notifications');
        assertRefusedApi(await grants(tpp, 'GET', grantId), 404, 'invalid_grant_id');
        assertRefusedApi(await grants(tpp, 'DELETE', grantId), 404, 'invalid_grant_id');
      });

      module('grant-management-ensure-revoke-without-revoke-scope-fails', async () => {
        assertRefusedApi(await grants(tpp, 'DELETE', grantIdOf(standing)!, QUERY), 403, 'insufficient_scope');
        await standingUnchanged();
      });

      module('grant-management-ensure-revoke-other-clients-grant-fails', async () => {
        assertRefusedApi(await grants(other, 'DELETE', grantIdOf(standing)!), 404, 'invalid_grant_id');
        await standingUnchanged();
      });

      module('grant-management-discovery-metadata', async () => {
        const response = await fetch(new URL(DISCOVERY_PATH, assent.issuer), { dispatcher: tlsAgent(assent.ca.certPem) });
        const metadata = (await response.json()) as Record<string, unknown>;
        assert.deepEqual(metadata.grant_management_actions_supported, ['create', 'merge', 'replace']);
        assert.equal(metadata.grant_management_endpoint, `${assent.issuer}${GRANTS_PATH}`);
        assert.equal(metadata.grant_management_action_required, false);
        const scopes = metadata.scopes_supported as string[];
        assert.ok(scopes.includes(QUERY) && scopes.includes(REVOKE), 'both scopes are advertised');
        // The endpoint answers where discovery says, and needs a token.
        const bare = await fetch(`${String(metadata.grant_management_endpoint)}/${grantIdOf(standing)}`, {
          dispatcher: tlsAgent(assent.ca.certPem),
        });
        assert.equal(bare.status, 401);
      });
    });
  }
});
