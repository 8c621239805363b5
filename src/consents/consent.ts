import type { ConsentRow, ConsentStatus, ConsentType, ObAccountReference } from '../db/schema.ts';
import type { ObPermission } from './permissions.ts';
import type { VrpTerms } from './vrp/vrp-terms.ts';

export type { ConsentType, ObAccountReference } from '../db/schema.ts';

/** A single domestic payment as the TPP asked for it; the amount stays a decimal string throughout. */
export interface PaymentInitiation {
  instructionIdentification: string;
  endToEndIdentification: string;
  amount: string;
  currency: string;
  creditorAccount: ObAccountReference;
  reference: string | null;
}

/** What a TPP asks for, validated, before it is stored. */
export interface ConsentDraft {
  type: ConsentType;
  permissions: ObPermission[];
  expiresAt: Date | null;
  transactionFrom: Date | null;
  transactionTo: Date | null;
  payment: PaymentInitiation | null;
  debtorAccount: ObAccountReference | null;
  risk: Record<string, unknown>;
  /** Domestic VRP only: control parameters and creditor. */
  vrp: VrpTerms | null;
}

export interface Consent extends ConsentDraft {
  id: string;
  clientId: string;
  customerId: string | null;
  /** The stored status, except that an Authorised consent past its expiry reads as Expired. */
  status: ConsentStatus;
  selectedAccountIds: string[];
  grantId: string | null;
  /** Why it ended, when the system ended it (e.g. "authorization code reused"); null otherwise. */
  statusReason: string | null;
  statusUpdatedAt: Date;
  createdAt: Date;
  /** When a token of it was last issued or introspected, to the minute (consent-use.ts). */
  lastUsedAt: Date | null;
}

export function effectiveStatus(row: Pick<ConsentRow, 'status' | 'expires_at'>, now = new Date()): ConsentStatus {
  return row.status === 'Authorised' && row.expires_at !== null && row.expires_at <= now ? 'Expired' : row.status;
}

export function toConsent(row: ConsentRow, now = new Date()): Consent {
  return {
    id: row.id,
    type: row.type,
    clientId: row.client_id,
    customerId: row.customer_id,
    status: effectiveStatus(row, now),
    permissions: row.permissions as ObPermission[],
    expiresAt: row.expires_at,
    transactionFrom: row.transaction_from,
    transactionTo: row.transaction_to,
    payment:
      row.instructed_amount === null || row.creditor_account === null
        ? null
        : {
            instructionIdentification: row.instruction_identification ?? '',
            endToEndIdentification: row.end_to_end_identification ?? '',
            amount: row.instructed_amount,
            currency: row.instructed_currency ?? '',
            creditorAccount: row.creditor_account,
            reference: row.remittance_reference,
          },
    debtorAccount: row.debtor_account,
    risk: row.risk,
    // Written only from a validated VrpTerms (consent-service.ts draftColumns).
    vrp: row.vrp as VrpTerms | null,
    selectedAccountIds: row.selected_account_ids,
    grantId: row.grant_id,
    statusReason: row.status_reason,
    statusUpdatedAt: row.status_updated_at,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
  };
}
