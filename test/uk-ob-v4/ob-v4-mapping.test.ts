import assert from 'node:assert/strict';
import { test } from 'node:test';
import { CONSENT_STATUSES } from '../../src/protocol/consent-types.ts';
import { V4_STATUS_OF } from '../../src/uk-ob-v4/consent-status.ts';
import { OB_V4_ERROR_CODES, obV4Envelope } from '../../src/uk-ob-v4/ob-v4-errors.ts';

test('each v3.1 error code has its own OBExternalStatusReason1Code value, U000 to U029', () => {
  const codes = Object.values(OB_V4_ERROR_CODES);
  for (const code of codes) assert.match(code, /^U0([01]\d|2[0-9])$/);
  assert.equal(new Set(codes).size, codes.length, 'no two v3.1 codes share a v4.0 code');
  assert.equal(OB_V4_ERROR_CODES['UK.OBIE.Field.Missing'], 'U004', 'the profile example: "ErrorCode": "U004" is UK.OBIE.Field.Missing');
  assert.equal(OB_V4_ERROR_CODES['UK.OBIE.Unsupported.Scheme'], 'U027', 'the profile example: "U027" is UK.OBIE.Unsupported.Scheme');
});

test('each status reads as its own v4.0 code, so a consent tells the same story in both versions', () => {
  const v4 = CONSENT_STATUSES.map((status) => V4_STATUS_OF[status]);
  assert.equal(new Set(v4).size, CONSENT_STATUSES.length);
  assert.deepEqual(v4, ['AWAU', 'AUTH', 'RJCT', 'CANC', 'EXPD', 'COND']);
});

test('the v4.0 envelope: Id and Errors only, 4-character codes, the v3.1 name first; no body on 401', () => {
  const body = obV4Envelope(400, 'the consent request is not valid', [
    { code: 'UK.OBIE.Field.Missing', message: 'Risk is required', path: 'Risk' },
    { code: 'UK.OBIE.Field.Invalid', message: 'not a UK Open Banking permission' },
  ]);
  assert.ok(body);
  assert.deepEqual(Object.keys(body).toSorted(), ['Errors', 'Id']);
  assert.deepEqual(body.Errors, [
    { ErrorCode: 'U004', Message: 'UK.OBIE.Field.Missing - Risk is required', Path: 'Risk' },
    { ErrorCode: 'U002', Message: 'UK.OBIE.Field.Invalid - not a UK Open Banking permission' },
  ]);
  assert.equal(obV4Envelope(401, 'no token', [{ code: 'UK.OBIE.Header.Missing', message: 'no token' }]), undefined);
});
