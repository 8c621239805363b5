import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Db } from '../../src/db/connect.ts';
import { createCustomer } from '../../src/customers/customer-service.ts';
import { loadTotpKey } from '../../src/customers/totp-key.ts';
import { currentTotpCode, totpStep } from '../../src/customers/totp.ts';

export interface TestCustomer {
  id: string;
  username: string;
  displayName: string;
  password: string;
  totpSecret: string;
  /** The authenticator app: a valid code no earlier call returned (each code is accepted once). */
  nextCode(): string;
}

/** A customer enrolled with both factors; the TOTP key is the dev key of the test's database. */
export async function createTestCustomer(db: Db): Promise<TestCustomer> {
  const username = `customer-${randomBytes(4).toString('hex')}`;
  const password = randomBytes(12).toString('base64url');
  const totpKey = await loadTotpKey(db, { devMode: true, configured: undefined });
  const { customer, totp } = await createCustomer(db, totpKey, {
    username,
    displayName: `Customer ${username}`,
    password,
    authenticatorIssuer: 'Test Bank',
  });
  return { ...customer, password, totpSecret: totp.secret, nextCode: authenticator(totp.secret) };
}

/** The authenticator app of `secret`: each call a valid code no earlier call returned (each code is accepted once). */
export function authenticator(secret: string): () => string {
  const handedOut = new Set<number>();
  return () => {
    // The server accepts one step either side of now; hand out an unused one, the longest-lived first. The
    // previous step's code lapses when this step ends, so it goes out only with 10 s to spare: a sign-in
    // on a busy machine takes seconds between the code and its submission.
    const now = totpStep();
    const spare = 30_000 - (Date.now() % 30_000) >= 10_000;
    const step = [now, now + 1, ...(spare ? [now - 1] : [])].find((candidate) => !handedOut.has(candidate));
    if (step === undefined) throw new Error('three codes used within 30 seconds: wait for the next step');
    handedOut.add(step);
    return currentTotpCode(secret, step * 30_000);
  };
}

/**
 * The customer's next one-time code; when this 30-second step's codes are spent (each is accepted
 * once), waits for the next step rather than failing the test.
 */
export async function oneTimeCode(customer: { nextCode(): string }): Promise<string> {
  for (;;) {
    try {
      return customer.nextCode();
    } catch (error) {
      if (!/codes used within 30 seconds/.test((error as Error).message)) throw error;
      await sleep(30_050 - (Date.now() % 30_000));
    }
  }
}
