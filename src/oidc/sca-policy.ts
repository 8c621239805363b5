import { interactionPolicy } from 'oidc-provider';

const { Check } = interactionPolicy;

/**
 * PSD2: each authorization (an account consent, a payment) needs its own strong customer
 * authentication, so a sign-in session left in the browser by an earlier authorization is not enough.
 * The login prompt is requested until this authorization's own interaction has produced a login
 * result (kept across the consent step because that step merges with the last submission).
 */
export function scaInteractionPolicy() {
  const policy = interactionPolicy.base();
  policy
    .get('login')!
    .checks.add(
      new Check('sca_per_authorization', 'strong customer authentication is required for every authorization', (ctx) =>
        ctx.oidc.result?.login ? Check.NO_NEED_TO_PROMPT : Check.REQUEST_PROMPT,
      ),
    );
  return policy;
}
