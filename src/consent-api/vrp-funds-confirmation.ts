import { randomUUID } from 'node:crypto';
import type { Provider } from 'oidc-provider';
import { z } from 'zod';
import type { AccountDirectory } from '../customers/account-directory.ts';
import type { Db } from '../db/connect.ts';
import type { GuardedRoutes } from '../http/declared-routes.ts';
import { ConsentNotAuthorised, ConsentNotFound } from '../consents/consent-errors.ts';
import { getConsentForClient } from '../consents/consent-service.ts';
import { obAmount, text, toProblems } from '../uk-ob-v3/request-fields.ts';
import { ObError } from '../ob-api/ob-error.ts';
import { readJson } from '../ob-api/request-body.ts';
import { VRP_FUNDS_CONFIRMATION_OPERATIONS } from '../protocol/routes.ts';

/**
 * `POST /open-banking/v3.1/vrp/domestic-vrp-consents/{ConsentId}/funds-confirmation` (UK OB v3.1.10) and
 * `POST /open-banking/v4.0/pisp/domestic-vrp-consents/{ConsentId}/funds-confirmation` (v4.0): with the
 * customer's access token of that very consent (authorization code grant, sender-constrained), the PISP
 * asks whether the account the customer chose can pay an amount now. The answer is Available or
 * NotAvailable, never the balance; it changes nothing, so nothing is written. Either version asks about a
 * consent either version created; errors leave in the envelope of the version the path names.
 */

export const vrpFundsConfirmationRequest = z.object({
  Data: z.object({ ConsentId: z.string(), Reference: text(35), InstructedAmount: obAmount }),
});

/**
 * OBVRPFundsConfirmationRequest of v4.0: `"required": ["ConsentId", "InstructedAmount"]`, so the
 * Reference may be left out (Assent's v3.1 route requires it, as v3.1.10's documentation did).
 */
export const vrpFundsConfirmationRequestV4 = z.object({
  Data: z.object({ ConsentId: z.string(), Reference: text(35).optional(), InstructedAmount: obAmount }),
});

export const vrpFundsConfirmationResponse = z.object({
  Data: z.object({
    FundsConfirmationId: z.string(),
    ConsentId: z.string(),
    CreationDateTime: z.iso.datetime({ offset: true }),
    Reference: z.string(),
    InstructedAmount: z.object({ Amount: z.string(), Currency: z.string() }),
    FundsAvailableResult: z.object({
      FundsAvailableDateTime: z.iso.datetime({ offset: true }),
      FundsAvailable: z.enum(['Available', 'NotAvailable']),
    }),
  }),
  Links: z.object({ Self: z.url() }),
  Meta: z.object({}),
});

/** OBVRPFundsConfirmationResponse of v4.0: v3.1's, the Reference echoed when the request gave one. */
export const vrpFundsConfirmationResponseV4 = vrpFundsConfirmationResponse.extend({
  Data: vrpFundsConfirmationResponse.shape.Data.extend({ Reference: z.string().optional() }),
});

const REQUESTS = { 'v3.1': vrpFundsConfirmationRequest, 'v4.0': vrpFundsConfirmationRequestV4 } as const;

/**
 * The route table's rows (one per version) name the customer's access token with the consent type's
 * scope, which the guard checks. A consent that is not Authorised is refused with InvalidConsentStatus
 * (v4.0: "If resource has any other Status, the ASPSP must respond with a 400 (Bad Request) and a `U009`").
 */
export function vrpFundsConfirmationRoute(routes: GuardedRoutes, deps: { provider: Provider; db: Db; accounts: AccountDirectory }) {
  for (const version of ['v3.1', 'v4.0'] as const) vrpFundsConfirmation(routes, deps, version);
}

function vrpFundsConfirmation(
  routes: GuardedRoutes,
  deps: { provider: Provider; db: Db; accounts: AccountDirectory },
  version: keyof typeof REQUESTS,
) {
  const { provider, db } = deps;
  routes.client(VRP_FUNDS_CONFIRMATION_OPERATIONS[version], async (ctx) => {
    const { caller } = ctx.state;
    const consentId = ctx.params.consentId ?? '';
    const consent = await getConsentForClient(db, caller.clientId, consentId);
    if (consent?.type !== 'domestic_vrp') throw new ConsentNotFound();
    if (consent.grantId !== caller.grantId)
      throw ObError.of(403, 'UK.OBIE.Resource.ConsentMismatch', 'the access token was not granted for this consent', 'Authorization');
    if (consent.status !== 'Authorised') throw new ConsentNotAuthorised(consent.status);

    const parsed = REQUESTS[version].safeParse(await readJson(ctx), { reportInput: true });
    if (!parsed.success) throw new ObError(400, 'the funds confirmation request is not valid', toProblems(parsed.error));
    const { ConsentId, Reference, InstructedAmount } = parsed.data.Data;
    if (ConsentId !== consent.id)
      throw ObError.of(400, 'UK.OBIE.Resource.ConsentMismatch', 'Data.ConsentId is not the consent of the path', 'Data.ConsentId');

    const [accountId] = consent.selectedAccountIds;
    const available =
      accountId !== undefined && (await deps.accounts.fundsAvailable(accountId, InstructedAmount.Amount, InstructedAmount.Currency));
    const now = new Date().toISOString();
    const id = randomUUID();
    ctx.status = 201;
    ctx.set('cache-control', 'no-store');
    ctx.body = {
      Data: {
        FundsConfirmationId: id,
        ConsentId,
        CreationDateTime: now,
        Reference,
        InstructedAmount,
        FundsAvailableResult: { FundsAvailableDateTime: now, FundsAvailable: available ? 'Available' : 'NotAvailable' },
      },
      Links: { Self: `${provider.issuer}${ctx.path}` },
      Meta: {},
    } satisfies z.infer<typeof vrpFundsConfirmationResponseV4>;
  });
}
