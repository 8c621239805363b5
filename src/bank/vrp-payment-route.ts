import { z } from 'zod';
import type { Actor } from '../consents/consent-service.ts';
import { obAmount, toProblems } from '../uk-ob-v3/request-fields.ts';
import { decideVrpPayment } from '../consents/vrp/vrp-payment-service.ts';
import { PSU_INTERACTION_TYPES } from '../consents/vrp/vrp-terms.ts';
import type { Db } from '../db/connect.ts';
import type { GuardedRoutes } from '../http/declared-routes.ts';
import { ObError } from '../ob-api/ob-error.ts';
import { idempotencyKeyOf, readJson } from '../ob-api/request-body.ts';

/**
 * `POST /bank/vrp-consents/:consentId/payments`: the bank's payment system asks before it makes a
 * payment under a VRP consent. Body `{"Data": {"InstructedAmount": {"Amount", "Currency"}}}` and an
 * `x-idempotency-key` header. 201 with the periods' usage when accepted; 400 in the UK OB envelope
 * naming the rule when refused (`UK.OBIE.Rules.FailsControlParameters` with the limit's path, or
 * `UK.OBIE.Resource.InvalidConsentStatus`). A repeated key answers as the first time did.
 */

export const paymentRequest = z.object({
  Data: z.object({
    InstructedAmount: obAmount,
    PSUInteractionType: z
      .enum(PSU_INTERACTION_TYPES, { error: `PSUInteractionType must be one of ${PSU_INTERACTION_TYPES.join(', ')}` })
      .optional(),
  }),
});

export function vrpPaymentRoute(routes: GuardedRoutes, db: Db) {
  routes.client('decideVrpPayment', async (ctx) => {
    const idempotencyKey = idempotencyKeyOf(ctx, true)!;
    const parsed = paymentRequest.safeParse(await readJson(ctx), { reportInput: true });
    if (!parsed.success) throw new ObError(400, 'the payment request is not valid', toProblems(parsed.error));
    const actor: Actor = { kind: 'resource_server', id: ctx.state.caller.clientId };
    const { InstructedAmount, PSUInteractionType } = parsed.data.Data;
    const decision = await decideVrpPayment(db, {
      consentId: ctx.params.consentId ?? '',
      idempotencyKey,
      amount: InstructedAmount.Amount,
      currency: InstructedAmount.Currency,
      ...(PSUInteractionType && { interaction: PSUInteractionType }),
      actor,
    });
    ctx.set('cache-control', 'no-store');
    if (decision.replayed) ctx.set('x-idempotent-replay', 'true');
    const { answer } = decision;
    if (answer.outcome === 'refused') {
      const { ErrorCode: code, Message: message, Path: path } = answer.Refusal;
      throw new ObError(400, `payment ${answer.PaymentId} refused`, [{ code, message, path }]);
    }
    const { outcome: _outcome, ...data } = answer;
    ctx.status = 201;
    ctx.body = { Data: { ...data, Status: 'Accepted' } };
  });
}
