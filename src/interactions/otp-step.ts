import type { Context } from 'koa';
import type { Provider } from 'oidc-provider';
import type { CustomerAuthentication } from '../customers/authentication.ts';
import type { Db } from '../db/connect.ts';
import { readForm } from '../http/form-body.ts';
import type { Views } from '../http/views.ts';
import type { MessageKey } from '../wording/messages.ts';
import { SCA_ACR } from '../protocol/acr.ts';
import { paymentDetails, vrpDetails } from './consent-details.ts';
import { linkedPaymentOf, paymentDigest, paymentDigestMatches } from './dynamic-linking.ts';
import { finishInteraction } from './interaction-context.ts';
import { type Journey, journeyOf, passwordVerifiedFor, signInRead } from './journey.ts';
import { lockoutNotice, renderLogin } from './login-step.ts';
import { approvalResult, paymentOf } from './payment-approval.ts';
import { forgetPasswordFactor } from './sca-progress-repository.ts';

/**
 * Second factor (possession): the code of the customer's authenticator app. Only after both factors
 * does the login finish, with acr `urn:openbanking:psd2:sca` and amr pwd + otp. For a payment the page
 * shows amount, currency and payee, and the code approves exactly that payment (PSD2 dynamic linking):
 * the form carries the digest of what was shown, and a payment that changed in between is shown again
 * instead of being approved.
 */

export interface OtpStepDeps {
  provider: Provider;
  db: Db;
  views: Views;
  authentication: CustomerAuthentication;
}

const MESSAGES = {
  rejected: 'otp.error.rejected',
  reused: 'otp.error.reused',
  paymentChanged: 'otp.error.paymentChanged',
} as const satisfies Record<string, MessageKey>;

/** `error` is a catalogue key (src/wording/). */
export async function renderOtp(
  deps: { views: Views },
  ctx: Context,
  { interaction, tpp, consent }: Journey,
  error?: MessageKey,
  status = 200,
) {
  const payment = paymentOf(consent);
  const linked = payment && linkedPaymentOf(payment);
  const w = deps.views.wording(ctx);
  deps.views.render(
    ctx,
    'otp',
    {
      uid: interaction.uid,
      tpp: await tpp(),
      error: error && w.t(error),
      payment: payment && paymentDetails(w, payment),
      vrp: payment && vrpDetails(w, payment),
      paymentDigest: linked && paymentDigest(linked),
    },
    status,
  );
}

/** POST one-time code: the second factor, approving the payment the page showed. */
export function submitOtp(deps: OtpStepDeps) {
  return async function submitOtpStep(ctx: Context) {
    const journey = journeyOf(ctx);
    await checkCode(deps, ctx, journey, passwordVerifiedFor(journey)!);
  };
}

async function checkCode(deps: OtpStepDeps, ctx: Context, loaded: Journey, customerId: string) {
  const form = await readForm(ctx);
  const code = (form.code ?? '').replace(/\s+/g, '');
  if (!/^\d{6}$/.test(code)) {
    await renderOtp(deps, ctx, loaded, 'otp.error.format', 400);
    return;
  }
  const payment = paymentOf(loaded.consent);
  const linked = payment && linkedPaymentOf(payment);
  if (linked && !paymentDigestMatches(form.payment_digest ?? '', linked)) {
    await renderOtp(deps, ctx, loaded, MESSAGES.paymentChanged, 409);
    return;
  }
  const check = await deps.authentication.checkOneTimeCode(customerId, code, signInRead(loaded, customerId));
  switch (check.outcome) {
    case 'verified': {
      const login = { accountId: customerId, acr: SCA_ACR, amr: ['pwd', 'otp'] };
      await finishInteraction(ctx, loaded.interaction, { login, ...(payment && approvalResult(payment)) }, false);
      return;
    }
    case 'rejected':
    case 'reused':
      await renderOtp(deps, ctx, loaded, MESSAGES[check.outcome], 401);
      return;
    case 'locked':
      await forgetPasswordFactor(deps.db, loaded.interaction.uid);
      await renderLogin(deps, ctx, loaded, { notice: lockoutNotice(deps.views.wording(ctx), check.until) }, 429);
      return;
  }
}
