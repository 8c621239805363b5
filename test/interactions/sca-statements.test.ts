import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  claimTotpStepAndClearFailures,
  customerByIdWithLockoutQuery,
  customerByUsernameWithLockoutQuery,
  findCustomerByIdWithLockout,
  findCustomerByUsernameWithLockout,
  toCustomerAndLockout,
} from '../../src/customers/customer-repository.ts';
import { recordFailure } from '../../src/customers/login-throttle.ts';
import {
  nothingAlongside,
  passwordFactorCustomerQuery,
  recordPasswordFactor,
  touchScaProgressReading,
} from '../../src/interactions/sca-progress-repository.ts';
import { createModelFind } from '../../src/store/adapter.ts';
import { touchStoredInteraction } from '../support/interactions.ts';
import { claimDecision } from '../../src/interactions/decision-repository.ts';
import { auditEventCall, auditHistory, verifyAuditChain } from '../../src/audit/audit-trail.ts';
import { clientDisplayQuery, getClientDisplay } from '../../src/tpp/tpp-service.ts';
import { customerWithRow } from '../../src/customers/customer-service.ts';
import { sql } from 'kysely';
import { saveClient } from '../../src/store/clients.ts';
import { createTestCustomer } from '../support/customers.ts';
import { useMigratedDb } from '../support/fixture.ts';

/**
 * The statements that do several things at once on the sign-in path, against real Postgres: each
 * must do exactly what the separate reads and writes it replaced did.
 */
describe('sign-in statements', () => {
  const db = useMigratedDb();

  const touchScaProgress = async (uid: string, idleSeconds: number, now: Date) =>
    (await touchStoredInteraction(db, uid, idleSeconds, nothingAlongside(), now)).progress;
  const lastSeen = async (uid: string) =>
    (await db.selectFrom('sca_interaction').select('last_seen_at').where('uid', '=', uid).executeTakeFirstOrThrow()).last_seen_at;

  test('activity: the first request starts the clock, a later one within the limit moves it, one after the limit finds it timed out and leaves it', async () => {
    const uid = randomUUID();
    const customer = await createTestCustomer(db);
    const start = new Date('2026-11-29T10:00:00Z');
    assert.deepEqual(await touchScaProgress(uid, 300, start), { state: 'active', passwordVerifiedFor: undefined });
    assert.equal((await lastSeen(uid)).getTime(), start.getTime());

    await recordPasswordFactor(db, uid, customer.id, start);
    const within = new Date(start.getTime() + 300_000);
    assert.deepEqual(
      await touchScaProgress(uid, 300, within),
      { state: 'active', passwordVerifiedFor: customer.id },
      'exactly at the limit still counts',
    );
    assert.equal((await lastSeen(uid)).getTime(), within.getTime());

    const late = new Date(within.getTime() + 300_001);
    assert.deepEqual(await touchScaProgress(uid, 300, late), { state: 'timed_out' });
    assert.equal((await lastSeen(uid)).getTime(), within.getTime(), 'a timed-out interaction is not written');
    assert.deepEqual(await touchScaProgress(uid, 300, new Date(late.getTime() + 1000)), { state: 'timed_out' }, 'and stays timed out');
  });

  test('no activity for an interaction that is not stored, or has expired: nothing written, read as timed out and not found', async () => {
    const missing = randomUUID();
    const find = createModelFind(db);
    const none = await touchScaProgressReading(db, missing, 300, find.within('Interaction', missing).row, nothingAlongside());
    assert.deepEqual(none, { progress: { state: 'timed_out' }, alongside: {}, decided: undefined, found: null });
    const expired = randomUUID();
    await sql`insert into oidc_model (model, id, payload, expires_at) values ('Interaction', ${expired}, '{}'::jsonb, now() - interval '1 second')`.execute(
      db,
    );
    assert.equal(
      (await touchScaProgressReading(db, expired, 300, find.within('Interaction', expired).row, nothingAlongside())).found,
      null,
    );
    assert.deepEqual(await db.selectFrom('sca_interaction').select('uid').where('uid', 'in', [missing, expired]).execute(), []);
  });

  test('activity with what a page names: the same clock, and the row read alongside whether the interaction is live or timed out', async () => {
    const uid = randomUUID();
    const customer = await createTestCustomer(db);
    const clientId = `display-${randomUUID()}`;
    await saveClient(db, { client_id: clientId, client_name: 'Alongside name' });
    const start = new Date('2026-11-29T11:00:00Z');
    const named = sql<{ name: string | null; display_name: string | null }>`
      select d.client_name #>> '{}' as name, ${customerWithRow(sql`${customer.id}::text`)}->>'display_name' as display_name from (${clientDisplayQuery(clientId)}) as d`;
    const first = await touchStoredInteraction(db, uid, 300, named, start);
    assert.deepEqual(first, {
      progress: { state: 'active', passwordVerifiedFor: undefined },
      alongside: { name: 'Alongside name', display_name: customer.displayName },
      decided: undefined,
    });
    assert.equal((await lastSeen(uid)).getTime(), start.getTime());

    await recordPasswordFactor(db, uid, customer.id, start);
    const within = new Date(start.getTime() + 60_000);
    assert.deepEqual((await touchStoredInteraction(db, uid, 300, named, within)).progress, {
      state: 'active',
      passwordVerifiedFor: customer.id,
    });
    assert.equal((await lastSeen(uid)).getTime(), within.getTime());

    const late = new Date(within.getTime() + 300_001);
    assert.deepEqual(
      await touchStoredInteraction(db, uid, 300, named, late),
      { progress: { state: 'timed_out' }, alongside: { name: 'Alongside name', display_name: customer.displayName }, decided: undefined },
      'the timeout page still names the TPP',
    );
    assert.equal((await lastSeen(uid)).getTime(), within.getTime(), 'a timed-out interaction is not written');
    assert.deepEqual(
      (await sql`select ${customerWithRow(sql`${'not-a-uuid'}::text`)} as customer`.execute(db)).rows,
      [{ customer: null }],
      'an id that is no customer id reads nobody (and no error)',
    );
  });

  test('activity with the decision: none before, the one taken after, also once the interaction timed out', async () => {
    const uid = randomUUID();
    const start = new Date();
    assert.equal((await touchStoredInteraction(db, uid, 300, nothingAlongside(), start)).decided, undefined);
    assert.equal(await db.transaction().execute((trx) => claimDecision(trx, uid, 'denied', 'decided-client')), true);
    assert.deepEqual((await touchStoredInteraction(db, uid, 300, nothingAlongside(), start)).decided, {
      decision: 'denied',
      clientId: 'decided-client',
    });
    const late = await touchStoredInteraction(db, uid, 300, nothingAlongside(), new Date(start.getTime() + 301_000));
    assert.deepEqual(late, {
      progress: { state: 'timed_out' },
      alongside: {},
      decided: { decision: 'denied', clientId: 'decided-client' },
    });
  });

  test('activity with a sign-in read: the posted username, or the customer who passed the password step, with the lockout', async () => {
    const uid = randomUUID();
    const customer = await createTestCustomer(db);
    const byName = await touchStoredInteraction(db, uid, 300, customerByUsernameWithLockoutQuery(customer.username));
    assert.equal(byName.alongside.subject, customer.username);
    assert.deepEqual(
      toCustomerAndLockout(byName.alongside),
      await findCustomerByUsernameWithLockout(db, customer.username),
      'the same as the read alone',
    );
    const nobody = `nobody-${randomUUID()}`;
    const unknown = await touchStoredInteraction(db, uid, 300, customerByUsernameWithLockoutQuery(nobody));
    assert.deepEqual(
      { subject: unknown.alongside.subject, ...toCustomerAndLockout(unknown.alongside) },
      { subject: nobody, customer: undefined, lockedUntil: null },
    );

    const beforePassword = await touchStoredInteraction(db, uid, 300, customerByIdWithLockoutQuery(passwordFactorCustomerQuery(uid)));
    assert.deepEqual(
      { subject: beforePassword.alongside.subject, customer: toCustomerAndLockout(beforePassword.alongside).customer },
      { subject: null, customer: undefined },
      'nobody before the password step',
    );
    await recordPasswordFactor(db, uid, customer.id);
    for (let i = 0; i < 5; i += 1) await db.transaction().execute((trx) => recordFailure(trx, customer.username, 900, new Date()));
    const afterPassword = await touchStoredInteraction(db, uid, 300, customerByIdWithLockoutQuery(passwordFactorCustomerQuery(uid)));
    assert.equal(afterPassword.alongside.subject, customer.id);
    assert.deepEqual(
      toCustomerAndLockout(afterPassword.alongside),
      await findCustomerByIdWithLockout(db, customer.id),
      'the same as the read alone, lockout included',
    );
    assert.ok(toCustomerAndLockout(afterPassword.alongside).lockedUntil);
  });

  test('sign-in reads: the lockout of any username as typed, with its customer when there is one', async () => {
    const customer = await createTestCustomer(db);
    const now = new Date();
    assert.deepEqual(await findCustomerByUsernameWithLockout(db, `nobody-${randomUUID()}`), { customer: undefined, lockedUntil: null });

    const unknown = `nobody-${randomUUID()}`;
    let until: Date | undefined;
    for (let i = 0; i < 5; i += 1) until = await db.transaction().execute((trx) => recordFailure(trx, unknown, 900, now));
    assert.ok(until);
    assert.deepEqual(await findCustomerByUsernameWithLockout(db, unknown), { customer: undefined, lockedUntil: until });

    const known = await findCustomerByUsernameWithLockout(db, customer.username);
    assert.equal(known.customer?.id, customer.id);
    assert.equal(known.lockedUntil, null);
    for (let i = 0; i < 5; i += 1) until = await db.transaction().execute((trx) => recordFailure(trx, customer.username, 900, now));
    const locked = await findCustomerByIdWithLockout(db, customer.id);
    assert.equal(locked.customer?.username, customer.username);
    assert.deepEqual(locked.lockedUntil, until);
    assert.deepEqual(await findCustomerByIdWithLockout(db, randomUUID()), { customer: undefined, lockedUntil: null });
  });

  test('a completed SCA claims its step once, forgets older steps, clears the failure count and audits, in one statement; a replay changes nothing', async () => {
    const customer = await createTestCustomer(db);
    await db
      .insertInto('used_totp_step')
      .values([
        { customer_id: customer.id, step: 100 },
        { customer_id: customer.id, step: 103 },
      ])
      .execute();
    await db.transaction().execute((trx) => recordFailure(trx, customer.username, 900, new Date()));
    const failures = () =>
      db.selectFrom('login_throttle').select('consecutive_failures').where('username', '=', customer.username).executeTakeFirst();
    const steps = async () =>
      (await db.selectFrom('used_totp_step').select('step').where('customer_id', '=', customer.id).orderBy('step').execute()).map((row) =>
        Number(row.step),
      );

    const strongly = () =>
      auditEventCall({
        subjectType: 'customer',
        subjectId: customer.id,
        event: 'customer.strongly_authenticated',
        actor: { kind: 'customer', id: customer.id },
      }).call;
    const events = async () => (await auditHistory(db, 'customer', customer.id)).map((event) => event.event);
    assert.equal(await claimTotpStepAndClearFailures(db, customer, 103, 101, strongly()), false, 'a used step is a replay');
    assert.deepEqual(await events(), ['customer.created'], 'and audits nothing');
    assert.deepEqual(await steps(), [100, 103], 'nothing forgotten on a replay');
    assert.equal((await failures())?.consecutive_failures, 1, 'nor the failure count cleared');

    assert.equal(await claimTotpStepAndClearFailures(db, customer, 104, 102, strongly()), true);
    assert.deepEqual(await events(), ['customer.created', 'customer.strongly_authenticated'], 'the claim carries its audit event');
    assert.deepEqual(await verifyAuditChain(db, 'customer', customer.id), { valid: true, length: 2 });
    assert.deepEqual(await steps(), [103, 104]);
    assert.equal(await failures(), undefined);
  });

  test('a client is named by its TPP record, else by its registration, else not at all', async () => {
    const clientId = `display-${randomUUID()}`;
    assert.equal(await getClientDisplay(db, clientId), undefined);
    await saveClient(db, { client_id: clientId, client_name: 'Registered name', logo_uri: 'https://tpp.example/logo.png' });
    assert.deepEqual(await getClientDisplay(db, clientId), {
      name: 'Registered name',
      logoUri: 'https://tpp.example/logo.png',
      bankOwn: false,
    });
    const unnamed = `display-${randomUUID()}`;
    await saveClient(db, { client_id: unnamed, client_name: 42 } as never);
    assert.deepEqual(
      await getClientDisplay(db, unnamed),
      { name: unnamed, logoUri: null, bankOwn: false },
      'a registration without a usable name shows the client id',
    );
    await db
      .insertInto('tpp')
      .values({
        client_id: clientId,
        software_id: 'software',
        org_id: 'org',
        org_name: null,
        client_name: 'Onboarded name',
        logo_uri: null,
        roles: JSON.stringify(['AISP']),
        directory: 'https://directory.example',
        software_statement: 'ssa',
        software_statement_claims: '{}',
        status: 'active',
        status_reason: null,
      })
      .execute();
    assert.deepEqual(
      await getClientDisplay(db, clientId),
      { name: 'Onboarded name', logoUri: null, bankOwn: false },
      'the TPP record wins',
    );
  });
});
