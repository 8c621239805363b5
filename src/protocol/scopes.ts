import type { ConsentType } from './consent-types.ts';

/** Every OAuth scope the provider knows. */
export const SCOPE = {
  openid: 'openid',
  offlineAccess: 'offline_access',
  accounts: 'accounts',
  payments: 'payments',
  fundsConfirmations: 'fundsconfirmations',
  /**
   * The resource servers' scope at the bank API (src/bank/). A TPP cannot register it; one registered
   * without any scope could still ask for it, so the bank API also checks the client's kind.
   */
  bank: 'bank',
  /** FAPI Grant Management (src/grants/): a client reads, or revokes, its own grants. */
  grantManagementQuery: 'grant_management_query',
  grantManagementRevoke: 'grant_management_revoke',
} as const;

export type Scope = (typeof SCOPE)[keyof typeof SCOPE];

export const SCOPES: readonly Scope[] = Object.values(SCOPE);

/** Scopes the engine must know but discovery does not offer: no TPP may ask for them. */
export const INTERNAL_SCOPES: readonly Scope[] = [SCOPE.bank];

/** The scope a TPP needs to create a consent of each type, and that authorization requests bind. */
export const SCOPE_OF: Record<ConsentType, Scope> = {
  account_access: SCOPE.accounts,
  domestic_payment: SCOPE.payments,
  funds_confirmation: SCOPE.fundsConfirmations,
  // UK OB: VRP consents belong to the PISP role, like single payments.
  domestic_vrp: SCOPE.payments,
};

/** The scopes of the bank's Open Banking APIs, which consent-bound tokens are for. */
export const CONSENT_SCOPES: readonly Scope[] = [...new Set(Object.values(SCOPE_OF))];

/** Every TPP may manage its own grants (FAPI Grant Management), whatever its roles. */
export const GRANT_MANAGEMENT_SCOPES: readonly Scope[] = [SCOPE.grantManagementQuery, SCOPE.grantManagementRevoke];
