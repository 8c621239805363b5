import type { ObAccountReference } from '../db/schema.ts';
import type { AccountReference, AccountReferenceScheme } from '../protocol/consent-types.ts';

/**
 * UK OB account references (`SchemeName`, `Identification`, `Name`, `SecondaryIdentification`) to and
 * from the model's AccountReference. The consent API accepts only the two schemes below, and each maps
 * to one of the model's, so the SchemeName a TPP sent comes back exactly.
 */

export const ACCOUNT_SCHEMES = ['UK.OBIE.SortCodeAccountNumber', 'UK.OBIE.IBAN'] as const;

export type ObAccountScheme = (typeof ACCOUNT_SCHEMES)[number];

const SCHEME_OF: Record<ObAccountScheme, AccountReferenceScheme> = {
  'UK.OBIE.SortCodeAccountNumber': 'sort_code_account',
  'UK.OBIE.IBAN': 'iban',
};

const SCHEME_NAME_OF: Partial<Record<AccountReferenceScheme, ObAccountScheme>> = {
  sort_code_account: 'UK.OBIE.SortCodeAccountNumber',
  iban: 'UK.OBIE.IBAN',
};

/** A validated UK reference (request-fields.ts obAccount) in the model's terms; empty optional fields are left out. */
export function fromObAccount(account: ObAccountReference & { SchemeName: ObAccountScheme }): AccountReference {
  const { SchemeName, Identification, Name, SecondaryIdentification } = account;
  return {
    scheme: SCHEME_OF[SchemeName],
    identification: Identification,
    ...(Name && { name: Name }),
    ...(SecondaryIdentification && { secondaryIdentification: SecondaryIdentification }),
  };
}

/**
 * A reference in UK OB's words. The keys come in the order Postgres' jsonb kept them when the consent
 * API echoed the stored UK reference itself (shorter keys first), so the answers stay byte for byte the
 * same. A scheme UK OB has no name for (a Berlin Group PAN or MSISDN) keeps the model's name.
 */
export function toObAccount(reference: AccountReference, name = reference.name): ObAccountReference {
  return {
    ...(name !== undefined && { Name: name }),
    SchemeName: SCHEME_NAME_OF[reference.scheme] ?? reference.scheme,
    Identification: reference.identification,
    ...(reference.secondaryIdentification !== undefined && { SecondaryIdentification: reference.secondaryIdentification }),
  };
}
