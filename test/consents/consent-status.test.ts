import assert from 'node:assert/strict';
import { randomInt } from 'node:crypto';
import { describe, test } from 'node:test';
import { sql } from 'kysely';
import { auditHistory, verifyAuditChain } from '../../src/audit/audit-trail.ts';
import type { ConsentDraft } from '../../src/consents/consent.ts';
import { AccountSelectionInvalid, ConsentExpired, ConsentNotFound } from '../../src/consents/consent-errors.ts';
import {
  authoriseConsent,
  consentsOfCustomer,
  createConsent,
  expireDueConsents,
  getConsent,
  rejectConsent,
  revokeConsent,
  withdrawConsentForClient,
} from '../../src/consents/consent-service.ts';
import {
  assertTransition,
  CONSENT_STATUSES,
  canTransition,
  IllegalConsentTransition,
  isTerminal,
} from '../../src/consents/consent-status.ts';
import { openAccount, postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import type { ConsentStatus, ConsentType } from '../../src/db/schema.ts';
import { KyselyAdapter } from '../../src/store/adapter.ts';
import { createTestCustomer } from '../support/customers.ts';
import { useMigratedDb } from '../support/fixture.ts';

const LEGAL: Record<ConsentType, string[]> = {
  account_access: ['AwaitingAuthorisation->Authorised', 'AwaitingAuthorisation->Rejected', 'Authorised->Revoked', 'Authorised->Expired'],
  funds_confirmation: [
    'AwaitingAuthorisation->Authorised',
    'AwaitingAuthorisation->Rejected',
    'Authorised->Revoked',
    'Authorised->Expired',
  ],
  domestic_payment: [
    'AwaitingAuthorisation->Authorised',
    'AwaitingAuthorisation->Rejected',
    'Authorised->Revoked',
    'Authorised->Expired',
    'Authorised->Consumed',
  ],
  // Many payments under one consent: it is never Consumed.
  domestic_vrp: ['AwaitingAuthorisation->Authorised', 'AwaitingAuthorisation->Rejected', 'Authorised->Revoked', 'Authorised->Expired'],
};

const draft = (overrides: Partial<ConsentDraft> = {}): ConsentDraft => ({
  type: 'account_access',
  standard: 'uk_ob_v3',
  reads: [
    { scope: 'accounts.basic', accounts: null },
    { scope: 'balances', accounts: null },
  ],
  recurring: true,
  frequencyPerDay: null,
  combinedService: false,
  redirectUri: null,
  expiresAt: new Date(Date.now() + 86_400_000),
  transactionFrom: null,
  transactionTo: null,
  payment: null,
  debtorAccount: null,
  risk: {},
  vrp: null,
  ...overrides,
});

describe('consent status machine', () => {
  for (const type of Object.keys(LEGAL) as ConsentType[]) {
    test(`${type}: exactly the legal transitions pass, every other one throws`, () => {
      for (const from of CONSENT_STATUSES) {
        for (const to of CONSENT_STATUSES) {
          const legal = LEGAL[type].includes(`${from}->${to}`);
          assert.equal(canTransition(type, from, to), legal, `${from} -> ${to}`);
          if (legal) assertTransition(type, from, to);
          else assert.throws(() => assertTransition(type, from, to), IllegalConsentTransition);
        }
      }
    });
  }

  test('terminal states are exactly the ones nothing leaves', () => {
    const terminal = CONSENT_STATUSES.filter((status) => isTerminal(status));
    assert.deepEqual(terminal.toSorted(), ['Consumed', 'Expired', 'Rejected', 'Revoked']);
  });
});

describe('consent service', () => {
  const db = useMigratedDb();

  const directory = () => postgresAccountDirectory(db);
  async function customerWithAccount() {
    const customer = await createTestCustomer(db);
    const account = await openAccount(db, {
      customerId: customer.id,
      schemeName: 'UK.OBIE.SortCodeAccountNumber',
      identification: String(randomInt(10 ** 13, 10 ** 14 - 1)),
      name: 'Current',
      currency: 'GBP',
      accountType: 'Personal',
      accountSubtype: 'CurrentAccount',
    });
    return { customer, account };
  }
  async function grantRow(grantId: string) {
    await new KyselyAdapter(db, 'Grant').upsert(grantId, { jti: grantId, kind: 'Grant' }, 3600);
    await new KyselyAdapter(db, 'AccessToken').upsert(`at-${grantId}`, { jti: `at-${grantId}`, grantId, kind: 'AccessToken' }, 3600);
  }
  const grantRows = (grantId: string) =>
    db
      .selectFrom('oidc_model')
      .select('model')
      .where((eb) => eb.or([eb('id', '=', grantId), eb('grant_id', '=', grantId)]))
      .execute();
  const statusOf = async (id: string): Promise<ConsentStatus | undefined> =>
    (await db.selectFrom('consent').select('status').where('id', '=', id).executeTakeFirst())?.status;

  test('AwaitingAuthorisation -> Authorised -> Revoked: each step audited, the chain verifies, the grant goes with the revocation', async () => {
    const { customer, account } = await customerWithAccount();
    const { consent } = await createConsent(db, { clientId: 'tpp-a', draft: draft() });
    await grantRow('grant-1');
    const authorised = await authoriseConsent(db, directory(), {
      consentId: consent.id,
      clientId: 'tpp-a',
      customerId: customer.id,
      accountIds: [account.id],
      grantId: 'grant-1',
    });
    assert.equal(authorised.status, 'Authorised');
    assert.deepEqual(
      (await consentsOfCustomer(db, customer.id)).map((c) => c.id),
      [consent.id],
    );

    const revoked = await revokeConsent(db, { consentId: consent.id, actor: { kind: 'customer', id: customer.id } });
    assert.equal(revoked.status, 'Revoked');
    assert.deepEqual(await grantRows('grant-1'), []);
    const history = await auditHistory(db, 'consent', consent.id);
    assert.deepEqual(
      history.map((e) => [e.event, e.before, e.after]),
      [
        ['consent.created', null, { status: 'AwaitingAuthorisation' }],
        ['consent.authorised', { status: 'AwaitingAuthorisation' }, { status: 'Authorised' }],
        ['consent.revoked', { status: 'Authorised' }, { status: 'Revoked' }],
      ],
    );
    assert.deepEqual(history[1]?.details, { accountIds: [account.id], grantId: 'grant-1' });
    assert.deepEqual(await verifyAuditChain(db, 'consent', consent.id), { valid: true, length: 3 });

    // Terminal: nothing moves it again, and a refused transition writes nothing.
    await assert.rejects(
      revokeConsent(db, { consentId: consent.id, actor: { kind: 'customer', id: customer.id } }),
      IllegalConsentTransition,
    );
    await assert.rejects(
      authoriseConsent(db, directory(), {
        consentId: consent.id,
        clientId: 'tpp-a',
        customerId: customer.id,
        accountIds: [account.id],
        grantId: 'grant-2',
      }),
      IllegalConsentTransition,
    );
    assert.equal(await statusOf(consent.id), 'Revoked');
    assert.equal((await auditHistory(db, 'consent', consent.id)).length, 3);
  });

  test('AwaitingAuthorisation -> Rejected by the customer; a rejected consent cannot be authorised', async () => {
    const { customer, account } = await customerWithAccount();
    const { consent } = await createConsent(db, { clientId: 'tpp-a', draft: draft() });
    assert.equal((await rejectConsent(db, { consentId: consent.id, clientId: 'tpp-a', customerId: customer.id })).status, 'Rejected');
    await assert.rejects(
      authoriseConsent(db, directory(), {
        consentId: consent.id,
        clientId: 'tpp-a',
        customerId: customer.id,
        accountIds: [account.id],
        grantId: 'g',
      }),
      IllegalConsentTransition,
    );
    await assert.rejects(
      rejectConsent(db, { consentId: consent.id, clientId: 'tpp-a', customerId: customer.id }),
      IllegalConsentTransition,
    );
  });

  test('AwaitingAuthorisation cannot be revoked; the TPP withdrawing it rejects it instead', async () => {
    const { consent } = await createConsent(db, { clientId: 'tpp-a', draft: draft() });
    await assert.rejects(revokeConsent(db, { consentId: consent.id, actor: { kind: 'tpp', id: 'tpp-a' } }), IllegalConsentTransition);
    await assert.rejects(withdrawConsentForClient(db, 'tpp-b', consent.id), ConsentNotFound);
    assert.equal((await withdrawConsentForClient(db, 'tpp-a', consent.id)).status, 'Rejected');
  });

  test('authorising checks client, expiry and accounts; a refusal leaves the consent as it was', async () => {
    const { customer, account } = await customerWithAccount();
    const other = await customerWithAccount();
    const { consent } = await createConsent(db, { clientId: 'tpp-a', draft: draft() });
    const base = { consentId: consent.id, clientId: 'tpp-a', customerId: customer.id, grantId: 'g' };
    await assert.rejects(authoriseConsent(db, directory(), { ...base, clientId: 'tpp-b', accountIds: [account.id] }), ConsentNotFound);
    await assert.rejects(authoriseConsent(db, directory(), { ...base, accountIds: [] }), AccountSelectionInvalid);
    await assert.rejects(
      authoriseConsent(db, directory(), { ...base, accountIds: [account.id, other.account.id] }),
      AccountSelectionInvalid,
    );
    await assert.rejects(authoriseConsent(db, directory(), { ...base, accountIds: ['not-a-uuid'] }), AccountSelectionInvalid);

    const funds = await createConsent(db, {
      clientId: 'tpp-a',
      draft: draft({
        type: 'funds_confirmation',
        reads: [],
        debtorAccount: { scheme: 'sort_code_account', identification: '00000000000000' },
      }),
    });
    await assert.rejects(
      authoriseConsent(db, directory(), { ...base, consentId: funds.consent.id, accountIds: [account.id] }),
      /not the one it names/,
    );

    await db
      .updateTable('consent')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', consent.id)
      .execute();
    await assert.rejects(authoriseConsent(db, directory(), { ...base, accountIds: [account.id] }), ConsentExpired);
    assert.equal(await statusOf(consent.id), 'AwaitingAuthorisation');
    assert.equal((await auditHistory(db, 'consent', consent.id)).length, 1);
  });

  test('two concurrent authorisations of one consent: exactly one wins', async () => {
    const { customer, account } = await customerWithAccount();
    const { consent } = await createConsent(db, { clientId: 'tpp-a', draft: draft() });
    const attempt = (grantId: string) =>
      authoriseConsent(db, directory(), {
        consentId: consent.id,
        clientId: 'tpp-a',
        customerId: customer.id,
        accountIds: [account.id],
        grantId,
      });
    const results = await Promise.allSettled([attempt('race-1'), attempt('race-2')]);
    assert.equal(results.filter((result) => result.status === 'fulfilled').length, 1);
    assert.ok(results.some((result) => result.status === 'rejected' && result.reason instanceof IllegalConsentTransition));
    assert.equal((await auditHistory(db, 'consent', consent.id)).filter((event) => event.event === 'consent.authorised').length, 1);
  });

  test('an Authorised consent past its expiry reads as Expired at once; the sweep records it and removes the grant', async () => {
    const { customer, account } = await customerWithAccount();
    const { consent } = await createConsent(db, { clientId: 'tpp-a', draft: draft() });
    await grantRow('grant-expiring');
    await authoriseConsent(db, directory(), {
      consentId: consent.id,
      clientId: 'tpp-a',
      customerId: customer.id,
      accountIds: [account.id],
      grantId: 'grant-expiring',
    });
    await db
      .updateTable('consent')
      .set({ expires_at: new Date(Date.now() - 1000) })
      .where('id', '=', consent.id)
      .execute();

    assert.equal((await getConsent(db, consent.id))?.status, 'Expired');
    assert.equal(await statusOf(consent.id), 'Authorised');
    await assert.rejects(
      revokeConsent(db, { consentId: consent.id, actor: { kind: 'customer', id: customer.id } }),
      IllegalConsentTransition,
    );

    assert.ok((await expireDueConsents(db)) >= 1);
    assert.equal(await statusOf(consent.id), 'Expired');
    assert.deepEqual(await grantRows('grant-expiring'), []);
    const events = await auditHistory(db, 'consent', consent.id);
    assert.deepEqual(events.at(-1)?.actor, { kind: 'system', id: null });
    assert.equal(events.at(-1)?.event, 'consent.expired');
    assert.equal(await expireDueConsents(db), 0);
  });

  test('a consent chain with a row changed behind the trigger no longer verifies', async () => {
    const { customer, account } = await customerWithAccount();
    const { consent } = await createConsent(db, { clientId: 'tpp-a', draft: draft() });
    await authoriseConsent(db, directory(), {
      consentId: consent.id,
      clientId: 'tpp-a',
      customerId: customer.id,
      accountIds: [account.id],
      grantId: 'g-tamper',
    });
    await revokeConsent(db, { consentId: consent.id, actor: { kind: 'tpp', id: 'tpp-a' } });
    assert.deepEqual(await verifyAuditChain(db, 'consent', consent.id), { valid: true, length: 3 });
    await db.connection().execute(async (connection) => {
      await sql`set session_replication_role = replica`.execute(connection);
      await connection
        .updateTable('audit_event')
        .set({ details: sql`'{"accountIds": []}'::jsonb` })
        .where('subject_id', '=', consent.id)
        .where('seq', '=', 2)
        .execute();
      await sql`set session_replication_role = origin`.execute(connection);
    });
    assert.deepEqual(await verifyAuditChain(db, 'consent', consent.id), { valid: false, brokenAt: 2 });
  });

  test('amounts are stored as exact decimals', async () => {
    const { consent } = await createConsent(db, {
      clientId: 'tpp-a',
      draft: draft({
        type: 'domestic_payment',
        reads: [],
        payment: {
          scheme: 'uk_domestic',
          instructionIdentification: 'i',
          endToEndIdentification: 'e',
          amount: '1234567890123.45',
          currency: 'GBP',
          creditorAccount: { scheme: 'iban', identification: 'GB33BUKB20201555555555' },
          creditorName: 'Bob',
          reference: null,
          creditorAgent: null,
          requestedExecutionDate: null,
        },
      }),
    });
    assert.equal(consent.payment?.amount, '1234567890123.45');
    const row = await db
      .selectFrom('consent')
      .select(sql<string>`instructed_amount::text`.as('amount'))
      .where('id', '=', consent.id)
      .executeTakeFirstOrThrow();
    assert.equal(row.amount, '1234567890123.45');
  });
});
