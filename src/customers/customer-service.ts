import { randomUUID } from 'node:crypto';
import type { RawBuilder } from 'kysely';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import type { AuditActorKind } from '../db/schema.ts';
import {
  customerJsonQuery,
  deleteCustomerByUsername,
  findCustomerById,
  findCustomerByUsername,
  insertCustomer,
  updateTotpSecret,
} from './customer-repository.ts';
import { hashPassword } from './passwords.ts';
import { openSecret, sealSecret } from './secret-box.ts';
import { currentTotpCode, generateTotpSecret, otpauthUri } from './totp.ts';

export interface Actor {
  kind: AuditActorKind;
  id: string | null;
}

export interface Customer {
  id: string;
  username: string;
  displayName: string;
}

/** What an authenticator app needs, shown to the customer once at enrolment. */
export interface TotpEnrolment {
  secret: string;
  otpauthUri: string;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function toCustomer(row: { id: string; username: string; display_name: string }): Customer {
  return { id: row.id, username: row.username, displayName: row.display_name };
}

/** The row of the customer `id` names; an id that is no UUID names nobody (the column is uuid). */
async function rowOf(db: Db, id: string) {
  return UUID.test(id) ? findCustomerById(db, id) : undefined;
}

export async function getCustomer(db: Db, id: string): Promise<Customer | undefined> {
  const row = await rowOf(db, id);
  return row && toCustomer(row);
}

/**
 * `getCustomer` as SQL read with another statement's row (the adapter's account companion): the
 * customer the SQL `accountId` names as a JSON object, or null for nobody (an id that is no UUID names
 * nobody here too, and is never cast). Map it with `customerOfCompanion`.
 */
export function customerWithRow(accountId: RawBuilder<string | null>): RawBuilder<unknown> {
  return customerJsonQuery(accountId, UUID.source);
}

/** The customer `customerWithRow` read (null: nobody). */
export function customerOfCompanion(companion: unknown): Customer | undefined {
  return companion ? toCustomer(companion as { id: string; username: string; display_name: string }) : undefined;
}

/** A customer an operator has not disabled, or undefined: whom a decoupled request may reach. */
export async function getActiveCustomer(db: Db, id: string): Promise<Customer | undefined> {
  const row = await rowOf(db, id);
  return row && !row.disabled_at ? toCustomer(row) : undefined;
}

export async function findCustomer(db: Db, username: string): Promise<Customer | undefined> {
  const row = await findCustomerByUsername(db, username);
  return row && toCustomer(row);
}

/** Creates a customer with a password and an enrolled authenticator (both factors of SCA). */
export async function createCustomer(
  db: Db,
  totpKey: Buffer,
  input: { username: string; displayName: string; password: string; actor?: Actor; authenticatorIssuer: string },
): Promise<{ customer: Customer; totp: TotpEnrolment }> {
  const id = randomUUID();
  const secret = generateTotpSecret();
  const passwordHash = await hashPassword(input.password);
  const row = await db.transaction().execute(async (trx) => {
    const inserted = await insertCustomer(trx, {
      id,
      username: input.username,
      display_name: input.displayName,
      password_hash: passwordHash,
      totp_secret: sealSecret(totpKey, secret, id),
    });
    await appendAuditEvent(trx, {
      subjectType: 'customer',
      subjectId: id,
      event: 'customer.created',
      actor: input.actor ?? { kind: 'operator', id: null },
      after: { username: input.username, displayName: input.displayName, totpEnrolled: true },
    });
    return inserted;
  });
  return { customer: toCustomer(row), totp: { secret, otpauthUri: otpauthUri(secret, row.username, input.authenticatorIssuer) } };
}

/** Enrols a new authenticator, replacing any earlier one. */
export async function enrolTotp(
  db: Db,
  totpKey: Buffer,
  customer: Customer,
  actor: Actor,
  authenticatorIssuer: string,
): Promise<TotpEnrolment> {
  const secret = generateTotpSecret();
  await db.transaction().execute(async (trx) => {
    await updateTotpSecret(trx, customer.id, sealSecret(totpKey, secret, customer.id));
    await appendAuditEvent(trx, { subjectType: 'customer', subjectId: customer.id, event: 'customer.totp_enrolled', actor });
  });
  return { secret, otpauthUri: otpauthUri(secret, customer.username, authenticatorIssuer) };
}

/** The decrypted TOTP secret, or undefined when none is enrolled. For the authentication step and dev tooling. */
export async function readTotpSecret(db: Db, totpKey: Buffer, username: string): Promise<string | undefined> {
  const row = await findCustomerByUsername(db, username);
  return row?.totp_secret ? openSecret(totpKey, row.totp_secret, row.id) : undefined;
}

/** Dev tooling: the code the customer's authenticator shows now. */
export async function currentOneTimeCode(db: Db, totpKey: Buffer, username: string): Promise<string | undefined> {
  const secret = await readTotpSecret(db, totpKey, username);
  return secret && currentTotpCode(secret);
}

/** Removes the customer of that username, if there is one (the demo's fresh start; not audited). */
export async function removeCustomer(db: Db, username: string): Promise<void> {
  await deleteCustomerByUsername(db, username);
}
