/** RFC 7591 3.2.2 error codes, plus the two the registration endpoint needs for who may register at all. */
export type RegistrationErrorCode =
  | 'invalid_software_statement'
  | 'unapproved_software_statement'
  | 'invalid_redirect_uri'
  | 'invalid_client_metadata'
  | 'unauthorized_client'
  | 'invalid_client'
  | 'temporarily_unavailable';

const STATUS: Record<RegistrationErrorCode, number> = {
  invalid_software_statement: 400,
  unapproved_software_statement: 400,
  invalid_redirect_uri: 400,
  invalid_client_metadata: 400,
  unauthorized_client: 403,
  invalid_client: 401,
  temporarily_unavailable: 503,
};

export class RegistrationError extends Error {
  override name = 'RegistrationError';
  readonly code: RegistrationErrorCode;
  readonly status: number;

  constructor(code: RegistrationErrorCode, description: string, options?: ErrorOptions) {
    super(description, options);
    this.code = code;
    this.status = STATUS[code];
  }

  toJSON() {
    return { error: this.code, error_description: this.message };
  }
}
