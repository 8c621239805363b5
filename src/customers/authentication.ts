import { appendAuditEvent, auditEventCall } from '../audit/audit-trail.ts';
import type { Db } from '../db/connect.ts';
import {
  type CustomerAndLockout,
  claimTotpStepAndClearFailures,
  findCustomerByIdWithLockout,
  findCustomerByUsernameWithLockout,
} from './customer-repository.ts';
import { type Customer, toCustomer } from './customer-service.ts';
import { lockInForce, recordFailure } from './login-throttle.ts';
import { decoyHash, verifyPassword } from './passwords.ts';
import { openSecret } from './secret-box.ts';
import { matchTotpStep } from './totp.ts';
import type { WorkLimiter } from './work-limiter.ts';

/**
 * The two factors of strong customer authentication: knowledge (password) and possession (TOTP
 * authenticator). Every failure of either factor counts towards the lockout.
 */

export type PasswordCheck =
  | { outcome: 'verified'; customer: Customer }
  | { outcome: 'rejected' }
  | { outcome: 'not_enrolled' }
  | { outcome: 'locked'; until: Date }
  /** Too many argon2 runs under way or waiting: nothing was checked or counted. */
  | { outcome: 'busy' };

export type CodeCheck = { outcome: 'verified' } | { outcome: 'rejected' } | { outcome: 'reused' } | { outcome: 'locked'; until: Date };

export interface AuthenticationSettings {
  db: Db;
  totpKey: Buffer;
  lockoutSeconds: number;
  /** Caps concurrent argon2 runs. */
  passwordWork: WorkLimiter;
}

export type CustomerAuthentication = ReturnType<typeof createCustomerAuthentication>;

export function createCustomerAuthentication(settings: AuthenticationSettings) {
  const { db, totpKey, lockoutSeconds, passwordWork } = settings;

  /** Counts a failed factor; audits the lockout it may start (known customers only: unknown ones have no trail). */
  async function fail(username: string, customerId: string | undefined, factor: 'pwd' | 'otp'): Promise<Date | undefined> {
    const now = new Date();
    return db.transaction().execute(async (trx) => {
      const until = await recordFailure(trx, username, lockoutSeconds, now);
      if (until && customerId) {
        await appendAuditEvent(trx, {
          subjectType: 'customer',
          subjectId: customerId,
          event: 'customer.locked_out',
          actor: { kind: 'system', id: null },
          details: { factor, until: until.toISOString() },
        });
      }
      return until;
    });
  }

  /**
   * Unknown usernames cost the same argon2 run and answer the same as wrong passwords. `read`: the
   * customer and lockout of this username, when the request read them already (in its first statement).
   */
  async function checkPassword(username: string, password: string, read?: CustomerAndLockout): Promise<PasswordCheck> {
    const { customer: row, lockedUntil } = read ?? (await findCustomerByUsernameWithLockout(db, username));
    const locked = lockInForce(lockedUntil, new Date());
    if (locked) return { outcome: 'locked', until: locked };
    const hash = row?.password_hash ?? (await decoyHash());
    const verification = await passwordWork.run(() => verifyPassword(hash, password));
    if (!verification.ran) return { outcome: 'busy' };
    // A disabled customer gets the answer of a wrong password, counted the same way (nothing to probe).
    const valid = verification.value && !row?.disabled_at;
    if (row && valid) return row.totp_secret ? { outcome: 'verified', customer: toCustomer(row) } : { outcome: 'not_enrolled' };
    const until = await fail(username, row?.id, 'pwd');
    return until ? { outcome: 'locked', until } : { outcome: 'rejected' };
  }

  /** The second factor for a customer who passed the first; a code is accepted once only. `read` as for checkPassword. */
  async function checkOneTimeCode(customerId: string, code: string, read?: CustomerAndLockout): Promise<CodeCheck> {
    const { customer: row, lockedUntil } = read ?? (await findCustomerByIdWithLockout(db, customerId));
    if (!row?.totp_secret || row.disabled_at) return { outcome: 'rejected' };
    const now = new Date();
    const locked = lockInForce(lockedUntil, now);
    if (locked) return { outcome: 'locked', until: locked };
    const step = matchTotpStep(openSecret(totpKey, row.totp_secret, row.id), code, now.getTime());
    const audited = auditEventCall({
      subjectType: 'customer',
      subjectId: row.id,
      event: 'customer.strongly_authenticated',
      actor: { kind: 'customer', id: row.id },
      details: { amr: ['pwd', 'otp'] },
    });
    const accepted = step !== undefined && (await claimTotpStepAndClearFailures(db, row, step, step - 2, audited.call));
    if (accepted) audited.observed();
    if (accepted) return { outcome: 'verified' };
    const until = await fail(row.username, row.id, 'otp');
    if (until) return { outcome: 'locked', until };
    return step === undefined ? { outcome: 'rejected' } : { outcome: 'reused' };
  }

  return { checkPassword, checkOneTimeCode };
}
