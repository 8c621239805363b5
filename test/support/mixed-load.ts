import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { verifyAuditChain } from '../../src/audit/audit-trail.ts';
import { authoriseConsent } from '../../src/consents/consent-service.ts';
import { postgresAccountDirectory } from '../../src/customers/account-directory.ts';
import { connectDatabase, type Db } from '../../src/db/connect.ts';
import { EVENT_API_PATHS, OB_API_PREFIX } from '../../src/protocol/routes.ts';
import type { TestAssent } from './assent.ts';
import { type AssentProcess, spawnAssent } from './assent-process.ts';
import { freePort } from './free-port.ts';
import { ACCOUNT_ACCESS, accountAccessRequest, ConsentApiClient, DOMESTIC_VRP, domesticVrpRequest } from './consent-api.ts';
import { EventReceiver } from './event-receiver.ts';
import { customerWithAccounts, grantConsent } from './granted-consents.ts';
import { TestResourceServer } from './resource-server.ts';
import { createTestTpp } from './tpp.ts';

/**
 * The load a failover or a pooler must carry without losing anything: complete flows (consent API, PAR,
 * sign-in with both factors, the consent page, the code redeemed), a TPP creating account-access consents
 * and deleting them again (each authorisation and delete writes an audit event and an outbox event, pushed
 * to the TPP's HTTPS receiver), the bank's payment system asking for £1 VRP payments, and the bank's
 * resource server introspecting. Every write Assent acknowledged (2xx) goes into a ledger that `verifyLedger`
 * later holds the database to. A write that failed is retried until it is decided, as a TPP or a bank
 * would (a payment with the same idempotency key), so the retries are part of what is checked.
 */

export type Operation = 'flow' | 'consent.create' | 'consent.delete' | 'vrp.payment' | 'introspection';

/** One request: when it started (ms since the epoch), how long it took, what it was and whether it got a non-5xx answer. */
export interface Outcome {
  operation: Operation;
  startedAt: number;
  ms: number;
  status: number;
  ok: boolean;
}

export interface Ledger {
  /** Consents a complete flow authorised (the TPP redeemed the code for tokens). */
  authorised: Set<string>;
  /** Consents the consent API answered 201 for. */
  created: Set<string>;
  /** Consents it answered 204 to a DELETE for. */
  withdrawn: Set<string>;
  /** Payments the bank API answered 201 for, by idempotency key. */
  payments: Map<string, { consentId: string; paymentId: string }>;
}

export interface MixedLoad {
  ledger: Ledger;
  outcomes: Outcome[];
  receiver: EventReceiver;
  vrpConsents: string[];
  tppClientId: string;
  /** Runs one loop of complete flows and `workers` loops of the other traffic until `stop.now` turns true. */
  run(stop: { now: boolean }, workers?: number): Promise<void>;
  close(): Promise<void>;
}

/** Customers taking turns at complete flows. */
const FLOW_CUSTOMERS = 2;

/** A VRP consent that takes a year's worth of £1 payments. */
const ROOMY_LIMITS = { PeriodicLimits: [{ Amount: '100000.00', Currency: 'GBP', PeriodType: 'Year', PeriodAlignment: 'Consent' }] };

/** Answers a client may act on: anything but a server error or no answer at all. */
const decided = (status: number) => status > 0 && status < 500;

export async function prepareMixedLoad(
  assent: Pick<TestAssent, 'issuer' | 'db' | 'ca'>,
  options: { vrpConsents?: number } = {},
): Promise<MixedLoad> {
  const target = assent as TestAssent;
  const tpp = await createTestTpp(target);
  const api = await ConsentApiClient.create(target, tpp);
  const receiver = await EventReceiver.start(target);
  const registered = await api.call('POST', `${OB_API_PREFIX}${EVENT_API_PATHS.callbackUrls}`, {
    body: { Data: { Url: receiver.url, Version: '3.1' } },
  });
  if (registered.status !== 201) throw new Error(`callback URL refused: ${JSON.stringify(registered.body)}`);
  const bank = await TestResourceServer.create(target);
  const people = await customerWithAccounts(target);
  // Each customer's authenticator has three codes a 30-second step: enough customers for a short run's flows.
  const signers = [people];
  for (let index = 1; index < FLOW_CUSTOMERS; index += 1) signers.push(await customerWithAccounts(target));
  const vrpConsents: string[] = [];
  for (let index = 0; index < (options.vrpConsents ?? 2); index += 1) {
    const created = await api.call('POST', DOMESTIC_VRP, {
      body: domesticVrpRequest(ROOMY_LIMITS),
      headers: { 'x-idempotency-key': randomUUID() },
    });
    const consentId = (created.body as { Data?: { ConsentId?: string } }).Data?.ConsentId;
    if (!consentId) throw new Error(`VRP consent refused: ${JSON.stringify(created.body)}`);
    await authoriseConsent(assent.db, postgresAccountDirectory(assent.db), {
      consentId,
      clientId: tpp.clientId,
      customerId: people.customer.id,
      accountIds: [people.current.id],
      grantId: `grant-${randomUUID()}`,
    });
    vrpConsents.push(consentId);
  }

  const ledger: Ledger = { authorised: new Set(), created: new Set(), withdrawn: new Set(), payments: new Map() };
  const outcomes: Outcome[] = [];

  /** One request, recorded; a thrown error (no answer) counts as status 0. */
  async function attempt<T extends { status: number }>(operation: Operation, send: () => Promise<T>): Promise<T | undefined> {
    const startedAt = Date.now();
    try {
      const answer = await send();
      outcomes.push({ operation, startedAt, ms: Date.now() - startedAt, status: answer.status, ok: decided(answer.status) });
      return answer;
    } catch {
      outcomes.push({ operation, startedAt, ms: Date.now() - startedAt, status: 0, ok: false });
      return undefined;
    }
  }

  /** Sends until the answer is decided (or the load stops); the decided answer, if any. */
  async function untilDecided<T extends { status: number }>(stop: { now: boolean }, operation: Operation, send: () => Promise<T>) {
    while (!stop.now) {
      const answer = await attempt(operation, send);
      if (answer && decided(answer.status)) return answer;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return undefined;
  }

  async function consentCycle(stop: { now: boolean }) {
    const created = await attempt('consent.create', () => api.call('POST', ACCOUNT_ACCESS, { body: accountAccessRequest() }));
    if (created?.status !== 201) return;
    const consentId = (created.body as { Data: { ConsentId: string } }).Data.ConsentId;
    ledger.created.add(consentId);
    // A DELETE that failed may have committed: the retry then finds the consent already ended (400).
    const deleted = await untilDecided(stop, 'consent.delete', () => api.call('DELETE', `${ACCOUNT_ACCESS}/${consentId}`));
    if (deleted?.status === 204) ledger.withdrawn.add(consentId);
  }

  async function payment(stop: { now: boolean }, consentId: string) {
    const key = randomUUID();
    const paid = await untilDecided(stop, 'vrp.payment', () =>
      bank.call('POST', `/bank/vrp-consents/${consentId}/payments`, {
        body: { Data: { InstructedAmount: { Amount: '1.00', Currency: 'GBP' } } },
        headers: { 'x-idempotency-key': key },
      }),
    );
    if (paid?.status === 201)
      ledger.payments.set(key, { consentId, paymentId: (paid.body as { Data: { PaymentId: string } }).Data.PaymentId });
  }

  /** A whole flow counts as one request: failed if any step of it got a 5xx or no answer. */
  async function completeFlow(round: number) {
    const signer = signers[round % signers.length]!;
    const startedAt = Date.now();
    try {
      const granted = await grantConsent(target, tpp, signer.customer, { type: 'account_access', accounts: [signer.current] });
      outcomes.push({ operation: 'flow', startedAt, ms: Date.now() - startedAt, status: 200, ok: true });
      ledger.authorised.add(granted.consentId);
    } catch {
      outcomes.push({ operation: 'flow', startedAt, ms: Date.now() - startedAt, status: 0, ok: false });
    }
  }

  async function introspection() {
    await attempt('introspection', async () => {
      const answer = await bank.introspect(api.accessToken);
      if (answer.active !== true) throw new Error('the TPP token introspected inactive');
      return { status: 200 };
    });
  }

  return {
    ledger,
    outcomes,
    receiver,
    vrpConsents,
    tppClientId: tpp.clientId,
    async run(stop, workers = 3) {
      const flows = async () => {
        for (let round = 0; !stop.now; round += 1) await completeFlow(round);
      };
      await Promise.all([
        flows(),
        ...Array.from({ length: workers }, async (_, worker) => {
          for (let round = 0; !stop.now; round += 1) {
            await consentCycle(stop);
            await payment(stop, vrpConsents[(worker + round) % vrpConsents.length]!);
            await introspection();
          }
        }),
      ]);
    },
    close: () => receiver.stop(),
  };
}

/**
 * What the database must hold for everything the load was told: each acknowledged consent, authorisation,
 * delete and payment, with unbroken audit chains and their outbox events; no consent whose status disagrees with
 * its audit trail; no payment counted twice; every SET the receiver accepted. Each problem as one line.
 */
export async function verifyLedger(
  db: Db,
  load: Pick<MixedLoad, 'ledger' | 'receiver' | 'vrpConsents' | 'tppClientId'>,
): Promise<string[]> {
  const problems: string[] = [];
  const { ledger } = load;
  const consents = await db.selectFrom('consent').select(['id', 'status']).where('client_id', '=', load.tppClientId).execute();
  const status = new Map(consents.map((row) => [row.id, row.status]));
  for (const id of ledger.created) if (!status.has(id)) problems.push(`consent ${id} was acknowledged (201) but is not in the database`);
  for (const id of ledger.authorised) {
    if (status.get(id) !== 'Authorised')
      problems.push(`consent ${id} was authorised (tokens issued) but is ${status.get(id) ?? 'missing'}`);
  }
  for (const id of ledger.withdrawn) {
    if (status.get(id) !== 'Rejected') problems.push(`consent ${id} was deleted (204) but is ${status.get(id) ?? 'missing'}`);
  }

  const audit = await db
    .selectFrom('audit_event')
    .select(['subject_id', 'seq', 'after'])
    .where('subject_type', '=', 'consent')
    .where(
      'subject_id',
      'in',
      consents.map((row) => row.id),
    )
    .orderBy('subject_id')
    .orderBy('seq')
    .execute();
  const lastAuditedStatus = new Map<string, unknown>();
  for (const row of audit) {
    const after = row.after as { status?: unknown } | null;
    if (after?.status !== undefined) lastAuditedStatus.set(row.subject_id, after.status);
  }
  const events = await db
    .selectFrom('consent_event')
    .select(['id', 'consent_id', 'status'])
    .where('client_id', '=', load.tppClientId)
    .execute();
  for (const { id, status: current } of consents) {
    const chain = await verifyAuditChain(db, 'consent', id);
    if (!chain.valid) problems.push(`consent ${id}: audit chain broken at ${chain.brokenAt}`);
    const audited = lastAuditedStatus.get(id) ?? 'AwaitingAuthorisation';
    if (audited !== current) problems.push(`consent ${id} is ${current} but its audit trail ends at ${String(audited)} (stranded)`);
    if (current !== 'AwaitingAuthorisation' && !events.some((event) => event.consent_id === id && event.status === current)) {
      problems.push(`consent ${id} is ${current} but its outbox has no event for it`);
    }
  }
  const stored = new Set(events.map((event) => event.id));
  for (const received of load.receiver.received) {
    if (!stored.has(String(received.claims.jti)))
      problems.push(`the TPP received event ${String(received.claims.jti)}, which the database does not hold`);
  }

  const payments = await db
    .selectFrom('vrp_payment')
    .select(['id', 'consent_id', 'idempotency_key', 'outcome'])
    .where('consent_id', 'in', load.vrpConsents)
    .execute();
  const byKey = new Map<string, (typeof payments)[number][]>();
  for (const row of payments) {
    const key = `${row.consent_id}/${row.idempotency_key}`;
    byKey.set(key, [...(byKey.get(key) ?? []), row]);
  }
  for (const [key, rows] of byKey) if (rows.length > 1) problems.push(`payment ${key} is counted ${rows.length} times`);
  for (const [key, { consentId, paymentId }] of ledger.payments) {
    const rows = byKey.get(`${consentId}/${key}`) ?? [];
    if (rows.length !== 1 || rows[0]!.id !== paymentId || rows[0]!.outcome !== 'accepted') {
      problems.push(`payment ${paymentId} (key ${key}) was acknowledged (201) but the ledger holds ${JSON.stringify(rows)}`);
    }
  }
  for (const consentId of load.vrpConsents) {
    const accepted = payments.filter((row) => row.consent_id === consentId && row.outcome === 'accepted').length;
    const audited = await db
      .selectFrom('audit_event')
      .select((eb) => eb.fn.countAll<string>().as('count'))
      .where('subject_type', '=', 'consent')
      .where('subject_id', '=', consentId)
      .where('event', '=', 'vrp.payment.accepted')
      .executeTakeFirstOrThrow();
    if (Number(audited.count) !== accepted)
      problems.push(`VRP consent ${consentId}: ${accepted} payments in the ledger, ${audited.count} in the audit trail`);
  }
  return problems;
}

/**
 * Waits (up to `timeoutMs`) until the TPP's receiver holds every event the database has for it: delivery
 * is at least once, so a push cut by the failover must be made again. The ones still missing then.
 */
export async function undeliveredEvents(db: Db, load: Pick<MixedLoad, 'receiver' | 'tppClientId'>, timeoutMs: number): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const events = await db.selectFrom('consent_event').select('id').where('client_id', '=', load.tppClientId).execute();
    const received = new Set(load.receiver.received.map((event) => String(event.claims.jti)));
    const missing = events.map((event) => event.id).filter((id) => !received.has(id));
    if (missing.length === 0 || Date.now() > deadline) return missing;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Assent as its own process on `databaseUrl` (its public and ops ports), with the mixed load prepared against it. */
export interface LoadedAssent {
  assent: AssentProcess;
  opsPort: number;
  /** The test's own connection, on the same address as the process's. */
  db: Db;
  load: MixedLoad;
  close(): Promise<void>;
}

export async function startLoadedAssent(databaseUrl: string, env: Record<string, string> = {}): Promise<LoadedAssent> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'assent-load-'));
  const db = await connectDatabase({ databaseUrl, dataDir, pooler: env.DATABASE_POOLER === 'transaction' ? 'transaction' : 'session' });
  let assent: AssentProcess | undefined;
  let load: MixedLoad | undefined;
  const close = async () => {
    await load?.close();
    await assent?.stop();
    await db.destroy();
    await rm(dataDir, { recursive: true, force: true });
  };
  try {
    const [port, opsPort] = [await freePort(), await freePort()];
    const issuer = `https://localhost:${port}`;
    assent = await spawnAssent({
      DATABASE_URL: databaseUrl,
      DATA_DIR: dataDir,
      DEV_MODE: 'true',
      SEED_DEMO: 'false',
      ISSUER: issuer,
      PORT: String(port),
      OPS_PORT: String(opsPort),
      OUTBOUND_ALLOWED_HOSTS: 'localhost',
      // Every flow signs in from this one address.
      RATE_LIMIT_LOGIN: '10000/60',
      RATE_LIMIT_OTP: '10000/60',
      // Pushes retried quickly, so events cut by an outage are delivered within a short run.
      EVENT_PUSH_INTERVAL_MS: '100',
      EVENT_PUSH_BACKOFF_MS: '200',
      EVENT_PUSH_MAX_BACKOFF: '1',
      EVENT_PUSH_MAX_ATTEMPTS: '100',
      ...env,
    });
    const ca = {
      certPem: await readFile(path.join(dataDir, 'tls', 'ca.pem'), 'utf8'),
      keyPem: await readFile(path.join(dataDir, 'tls', 'ca-key.pem'), 'utf8'),
    };
    load = await prepareMixedLoad({ issuer, db, ca });
    return { assent, opsPort, db, load, close };
  } catch (error) {
    await close();
    throw error;
  }
}
