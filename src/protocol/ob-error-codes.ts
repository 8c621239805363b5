/** The UK Open Banking v3.1 error codes Assent answers with (the `ErrorCode` of each envelope entry). */
export type ObErrorCode =
  | 'UK.OBIE.Field.Expected'
  | 'UK.OBIE.Field.Invalid'
  | 'UK.OBIE.Field.InvalidDate'
  | 'UK.OBIE.Field.Missing'
  | 'UK.OBIE.Field.Unexpected'
  | 'UK.OBIE.Header.Invalid'
  | 'UK.OBIE.Header.Missing'
  | 'UK.OBIE.Resource.ConsentMismatch'
  | 'UK.OBIE.Resource.InvalidConsentStatus'
  | 'UK.OBIE.Resource.InvalidFormat'
  | 'UK.OBIE.Resource.NotFound'
  | 'UK.OBIE.Rules.FailsControlParameters'
  | 'UK.OBIE.Unsupported.AccountIdentifier'
  | 'UK.OBIE.Unsupported.Currency'
  | 'UK.OBIE.Unsupported.Scheme'
  | 'UK.OBIE.UnexpectedError';

/** One thing wrong with a request, located by a dotted path such as `Data.Initiation.InstructedAmount.Amount`. */
export interface ObProblem {
  code: ObErrorCode;
  message: string;
  path?: string;
}
