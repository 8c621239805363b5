import { isIP } from 'node:net';
import type { Context } from 'koa';
import { z } from 'zod';
import { BgError, bgEnvelope } from '../berlin-group/bg-error.ts';
import { type ConsentAccessAllowed, type ConsentAccessRefusal, recordConsentAccess } from '../consents/consent-access.ts';
import type { Actor } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import type { GuardedRoutes } from '../http/declared-routes.ts';
import { ObError } from '../ob-api/ob-error.ts';
import { readJson } from '../ob-api/request-body.ts';
import { toProblems } from '../uk-ob-v3/request-fields.ts';

/**
 * `POST /bank/consents/:consentId/accesses`: the bank's resource server records each account access it
 * serves under an account-access consent, before it answers the TPP. Body `{"resource", "accountId"?}`;
 * header `PSU-IP-Address`, passed on from the TPP's request, when the customer is present (then the
 * access is recorded but not counted against frequencyPerDay). 201 with today's count when allowed; 429
 * ACCESS_EXCEEDED in the Berlin Group envelope when frequencyPerDay is used up (only Berlin Group gives a
 * consent a frequency, and the resource server passes the answer on to the TPP as it is); the bank API's
 * UK OB envelope for everything else (unknown consent 404, not Authorised or not account access 400,
 * a bad body or header 400).
 */

const PSU_IP_ADDRESS = 'PSU-IP-Address';

export const accessRequest = z.strictObject({
  resource: z
    .string()
    .regex(
      /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,63}$/,
      'resource must be 1 to 64 letters, digits or . _ : / - (e.g. accounts, balances, transactions)',
    )
    .describe("what was read: 'accounts', 'balances', 'transactions' or the resource server's own label"),
  accountId: z
    .string()
    .regex(/^[!-~]{1,128}$/, 'accountId must be 1 to 128 printable ASCII characters without spaces')
    .optional()
    .describe('the account read, when the access is to one'),
});

export const accessRecorded = z.object({
  Data: z.object({
    ConsentId: z.string(),
    AccessedAt: z.iso.datetime({ offset: true }),
    CustomerPresent: z.boolean(),
    AccessesToday: z.number().int().describe('accesses without the customer present on this bank day, this one included when it is one'),
    FrequencyPerDay: z.number().int().nullable().describe("the consent's limit of accesses without the customer a day; null: none"),
    Remaining: z.number().int().nullable().describe("what remains of today's limit; null when there is none"),
  }),
});

/** Whether the customer is present: a PSU-IP-Address that is an IPv4 or IPv6 address; any other value is refused. */
function customerPresentOf(ctx: Context): boolean {
  const value = ctx.headers[PSU_IP_ADDRESS.toLowerCase()];
  if (value === undefined) return false;
  if (typeof value !== 'string' || isIP(value) === 0)
    throw ObError.of(400, 'UK.OBIE.Header.Invalid', `${PSU_IP_ADDRESS} must be one IPv4 or IPv6 address`, PSU_IP_ADDRESS);
  return true;
}

function answerAllowed(ctx: Context, allowed: ConsentAccessAllowed) {
  ctx.status = 201;
  ctx.body = {
    Data: {
      ConsentId: allowed.consentId,
      AccessedAt: allowed.accessedAt.toISOString(),
      CustomerPresent: allowed.customerPresent,
      AccessesToday: allowed.accessesToday,
      FrequencyPerDay: allowed.frequencyPerDay,
      Remaining: allowed.remaining,
    },
  };
}

function answerRefused(ctx: Context, refusal: ConsentAccessRefusal) {
  switch (refusal.reason) {
    case 'not_account_access':
      throw ObError.of(400, 'UK.OBIE.Resource.ConsentMismatch', `a ${refusal.type} consent gives no account access`, 'ConsentType');
    case 'not_authorised':
      throw ObError.of(400, 'UK.OBIE.Resource.InvalidConsentStatus', `the consent is ${refusal.status}`, 'Status');
    case 'frequency_exceeded': {
      const exceeded = BgError.of(
        'ACCESS_EXCEEDED',
        `the consent allows ${refusal.frequencyPerDay} accesses a day without the customer present, all used on ${refusal.bankDate}`,
      );
      ctx.status = exceeded.status;
      ctx.body = bgEnvelope(exceeded);
      return;
    }
  }
}

export function consentAccessRoute(routes: GuardedRoutes, db: Db, bankTimeZone: string) {
  routes.client('recordConsentAccess', async (ctx) => {
    ctx.set('cache-control', 'no-store');
    const customerPresent = customerPresentOf(ctx);
    const parsed = accessRequest.safeParse(await readJson(ctx), { reportInput: true });
    if (!parsed.success) throw new ObError(400, 'the access is not valid', toProblems(parsed.error));
    const actor: Actor = { kind: 'resource_server', id: ctx.state.caller.clientId };
    const decision = await recordConsentAccess(db, {
      consentId: ctx.params.consentId ?? '',
      resource: parsed.data.resource,
      accountId: parsed.data.accountId ?? null,
      customerPresent,
      actor,
      bankTimeZone,
    });
    if (decision.outcome === 'allowed') answerAllowed(ctx, decision);
    else answerRefused(ctx, decision);
  });
}
