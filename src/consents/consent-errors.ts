/** Failures of consent operations that callers map to their protocol's error (UK OB envelope, OAuth, page). */

export class ConsentNotFound extends Error {
  override name = 'ConsentNotFound';
  constructor() {
    super('no such consent');
  }
}

export class ConsentExpired extends Error {
  override name = 'ConsentExpired';
  constructor() {
    super('the consent has expired');
  }
}

export class AccountSelectionInvalid extends Error {
  override name = 'AccountSelectionInvalid';
}

/** The idempotency key was used before with a different request body. */
export class IdempotencyConflict extends Error {
  override name = 'IdempotencyConflict';
  constructor() {
    super('the idempotency key was already used for a different request');
  }
}
