import { errors } from 'oidc-provider';

/**
 * A TPP over the lower rate an operator set for it (`tpp:throttle`). An oidc-provider error, so the
 * provider's endpoints answer it themselves (429 temporarily_unavailable); the consent and bank APIs
 * answer it in the UK OB envelope with Retry-After.
 */
export class ClientThrottled extends errors.CustomOIDCProviderError {
  readonly retryAfterSeconds: number;
  constructor(retryAfterSeconds: number) {
    super('temporarily_unavailable', `this client is over the rate the bank set for it, retry in ${retryAfterSeconds} seconds`);
    this.retryAfterSeconds = retryAfterSeconds;
    this.status = 429;
    this.statusCode = 429;
  }
}
