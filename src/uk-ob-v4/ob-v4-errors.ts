import { randomUUID } from 'node:crypto';
import type { ObEnvelope } from '../ob-api/ob-error.ts';
import type { ObErrorCode } from '../protocol/ob-error-codes.ts';

/**
 * The UK OB v4.0 error envelope. v4.0 changed the structure and the codes, not what goes wrong
 * (Read/Write API v4.0 version control, "Errors": "Simplified error object, top level `Code` and
 * `Message` have been marked as optional and __deprecated__. Error codes now in ISO 20022 code value
 * format (4 chars) in the `OBExternalStatusReason1Code` enum"), so Assent keeps naming each problem by
 * its v3.1 code and this module writes it in v4.0's words.
 */

/**
 * Each v3.1 code's v4.0 value: OpenBankingUK/External_Internal_CodeSets, OB_Internal_Codeset.csv, code
 * set OBExternalStatusReason1Code (`U001` is "UK.OBIE.Field.Expected", ..., `U000` "UK.OBIE.UnexpectedError").
 */
export const OB_V4_ERROR_CODES: Record<ObErrorCode, string> = {
  'UK.OBIE.UnexpectedError': 'U000',
  'UK.OBIE.Field.Expected': 'U001',
  'UK.OBIE.Field.Invalid': 'U002',
  'UK.OBIE.Field.InvalidDate': 'U003',
  'UK.OBIE.Field.Missing': 'U004',
  'UK.OBIE.Field.Unexpected': 'U005',
  'UK.OBIE.Header.Invalid': 'U006',
  'UK.OBIE.Header.Missing': 'U007',
  'UK.OBIE.Resource.ConsentMismatch': 'U008',
  'UK.OBIE.Resource.InvalidConsentStatus': 'U009',
  'UK.OBIE.Resource.InvalidFormat': 'U010',
  'UK.OBIE.Resource.NotFound': 'U011',
  'UK.OBIE.Rules.FailsControlParameters': 'U014',
  'UK.OBIE.Unsupported.AccountIdentifier': 'U021',
  'UK.OBIE.Unsupported.Currency': 'U023',
  'UK.OBIE.Unsupported.Scheme': 'U027',
};

/**
 * OBErrorResponse1 of v4.0: `{"Id": "...", "Errors": [{"ErrorCode", "Message", "Path", "Url"}]}` (Read/Write
 * Data API Profile v4.0, "Error Response Structure"); the deprecated `Code` and `Message` are left out.
 * Each Message starts with the v3.1 name, as the profile's own example does ("ErrorCode": "U004",
 * "Message": "UK.OBIE.Field.Missing - Instructed identification is missing"), so a TPP moving from
 * v3.1 recognises it. A 401 has no body: "Situations where no token is provided or it is invalid should
 * return 401 (Unauthorised) without an error response" (same profile, "401 (Unauthorized)"); the
 * WWW-Authenticate challenge says what is wrong.
 */
export const obV4Envelope: ObEnvelope = (status, _message, problems) =>
  status === 401
    ? undefined
    : {
        Id: randomUUID(),
        Errors: problems.map((p) => ({
          ErrorCode: OB_V4_ERROR_CODES[p.code],
          Message: `${p.code} - ${p.message}`,
          ...(p.path && { Path: p.path }),
        })),
      };
