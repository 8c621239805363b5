import { AssentError } from '../protocol/assent-error.ts';

/** Failures of consent operations; each edge maps them through its protocol's table (see AssentError). */

export class ConsentNotFound extends AssentError {
  override name = 'ConsentNotFound';
  constructor() {
    super('consent_not_found', 'consent not found', { status: 404 });
  }
}

/** An operation that needs an authorised consent, on one that is not (awaiting, rejected, revoked, expired). */
export class ConsentNotAuthorised extends AssentError {
  override name = 'ConsentNotAuthorised';
  constructor(status: string) {
    super('consent_status_invalid', `the consent is ${status}`);
  }
}

/** An authorization request may not bind the consent it names (or names none properly); any dialect's binding. */
export class BindingRefused extends AssentError {
  override name = 'BindingRefused';
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('consent_binding_refused', message, options);
  }
}

export class ConsentExpired extends AssentError {
  override name = 'ConsentExpired';
  constructor() {
    super('consent_expired', 'the consent has expired');
  }
}

export class AccountSelectionInvalid extends AssentError {
  override name = 'AccountSelectionInvalid';
  /** The selected account is the one the money goes to (account-choices.ts `paysIntoItself`): the pages say so. */
  readonly paysIntoItself: boolean;
  constructor(message: string, options: { paysIntoItself?: boolean } = {}) {
    super('account_selection_invalid', message);
    this.paysIntoItself = options.paysIntoItself ?? false;
  }
}

/** The idempotency key was used before with a different request body. */
export class IdempotencyConflict extends AssentError {
  override name = 'IdempotencyConflict';
  constructor() {
    super('idempotency_conflict', 'the idempotency key was already used for a different request');
  }
}
