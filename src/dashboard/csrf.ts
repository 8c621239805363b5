import { createHash, timingSafeEqual } from 'node:crypto';

/** Every dashboard form carries the session's synchronizer token; a POST without it changes nothing. */

export const CSRF_FIELD = 'csrf_token';

export class CsrfRejected extends Error {
  override name = 'CsrfRejected';
  readonly status = 403;
  readonly expose = true;
  readonly error = 'csrf_rejected';
  constructor() {
    super('This form has expired or did not come from this site. Nothing was changed. Go back to your consents and try again.');
  }
}

const digest = (value: string) => createHash('sha256').update(value).digest();

export function requireCsrfToken(expected: string, presented: string | undefined): void {
  if (!presented || !timingSafeEqual(digest(expected), digest(presented))) throw new CsrfRejected();
}
