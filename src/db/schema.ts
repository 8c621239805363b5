import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';
import type {
  AccountReference,
  ConsentStandard,
  ConsentStatus,
  ConsentType,
  EndedBy,
  PaymentScheme,
  ReadAccess,
} from '../protocol/consent-types.ts';

/** Timestamps the database fills in; code may still set them explicitly. */
type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

/** Every oidc-provider artefact (codes, tokens, grants, sessions, clients, ...), keyed by model + id. */
export interface OidcModelTable {
  model: string;
  id: string;
  payload: ColumnType<Record<string, unknown>, string, string>;
  grant_id: string | null;
  user_code: string | null;
  uid: string | null;
  expires_at: Date | null;
  consumed_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type ServerSecretKind = 'signing' | 'cookie' | 'totp';

/** Key material the server generates for itself in dev mode and shares across processes. */
export interface ServerSecretTable {
  id: string;
  kind: ServerSecretKind;
  material: ColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
  /** Signing keys: published at once, used for signing from this moment (null: from creation). */
  activates_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  /** Signing keys: dropped from the JWKS from this moment, once what they signed has expired. */
  retires_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
}

export interface CustomerTable {
  id: Generated<string>;
  username: string;
  display_name: string;
  password_hash: string;
  /** AES-256-GCM ciphertext of the RFC 6238 secret (src/customers/secret-box.ts); null until enrolled. */
  totp_secret: string | null;
  /** Set by an operator: the customer cannot sign in until it is cleared. */
  disabled_at: ColumnType<Date | null, Date | null | undefined, Date | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** Consecutive failed sign-in attempts per username as typed, known or not (PSD2 RTS Art. 4). */
export interface LoginThrottleTable {
  username: string;
  consecutive_failures: ColumnType<number, number | undefined, number>;
  locked_until: Date | null;
  updated_at: UpdatedAt;
}

/** TOTP time steps already accepted for a customer: each code works once. */
export interface UsedTotpStepTable {
  customer_id: string;
  step: number;
  used_at: CreatedAt;
}

/** Strong-customer-authentication progress within one authorization interaction. */
export interface ScaInteractionTable {
  uid: string;
  customer_id: string | null;
  password_verified_at: Date | null;
  last_seen_at: Date;
  expires_at: Date;
  /** The TPP the customer decided for, and the decision: taken once per interaction. */
  client_id: string | null;
  decision: InteractionDecision | null;
  decided_at: Date | null;
}

export type InteractionDecision = 'approved' | 'denied';

export type AuditSubjectType = 'consent' | 'tpp' | 'customer' | 'resource_server' | 'key' | 'incident' | 'decoupled_request';
export type AuditActorKind = 'tpp' | 'customer' | 'operator' | 'resource_server' | 'system';

/** Append-only; each row carries the hash of the previous row of the same subject (tamper-evident chain). */
export interface AuditEventTable {
  id: Generated<string>;
  subject_type: AuditSubjectType;
  subject_id: string;
  seq: number;
  event: string;
  actor_kind: AuditActorKind;
  actor_id: string | null;
  before: ColumnType<unknown, string | null, never>;
  after: ColumnType<unknown, string | null, never>;
  details: ColumnType<Record<string, unknown>, string, never>;
  occurred_at: ColumnType<Date, Date, never>;
  prev_hash: string | null;
  hash: string;
}

export type AccountScheme = 'UK.OBIE.SortCodeAccountNumber' | 'UK.OBIE.IBAN';
export type AccountType = 'Personal' | 'Business';
export type AccountSubtype = 'CurrentAccount' | 'Savings' | 'CreditCard';

/** The bank's accounts, as the account directory exposes them to consent pages. */
export interface BankAccountTable {
  id: Generated<string>;
  customer_id: string;
  scheme_name: AccountScheme;
  identification: string;
  name: string;
  currency: string;
  account_type: AccountType;
  account_subtype: AccountSubtype;
  /** numeric(15,2) as a string: what the account can pay now, as the bank last reported it; null when unknown. */
  available_balance: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** The customer dashboard's private_key_jwt key (src/dashboard/dashboard-client.ts). */
export interface DashboardClientKeyTable {
  kid: string;
  private_jwk: ColumnType<Record<string, unknown>, string, string>;
  created_at: CreatedAt;
}

/** A dashboard sign-in between the redirect to /auth and the callback; id is SHA-256 of the cookie. */
export interface DashboardLoginTable {
  id_hash: string;
  code_verifier: string;
  state: string;
  nonce: string;
  created_at: CreatedAt;
  expires_at: Date;
}

/** A signed-in dashboard session; id is SHA-256 of the cookie; idle timeout counts from last_seen_at. */
export interface DashboardSessionTable {
  id_hash: string;
  customer_id: string;
  acr: string | null;
  created_at: CreatedAt;
  last_seen_at: ColumnType<Date, Date | undefined, Date>;
  expires_at: Date;
}

export type TppRole = 'AISP' | 'PISP' | 'CBPII';
export type TppStatus = 'active' | 'suspended' | 'deleted';
/** How Assent knows the TPP: the software statement it registered with, or its eIDAS certificate (no registration). */
export type TppIdentifiedBy = 'software_statement' | 'eidas';

/** A TPP's client as onboarded through dynamic registration: who it is per its software statement. */
export interface TppTable {
  client_id: string;
  software_id: string;
  org_id: string;
  org_name: string | null;
  client_name: string;
  logo_uri: string | null;
  roles: ColumnType<TppRole[], string, string>;
  /** Issuer of the software statement (the trusted directory); `eidas` for a TPP known by its certificate. */
  directory: string;
  identified_by: ColumnType<TppIdentifiedBy, TppIdentifiedBy | undefined, TppIdentifiedBy>;
  /** Null exactly when identified_by is `eidas`. */
  software_statement: string | null;
  software_statement_claims: ColumnType<Record<string, unknown> | null, string | null, string | null>;
  status: TppStatus;
  status_reason: string | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** Consent types and UK OB statuses are protocol facts; `src/consents/consent-status.ts` owns the transitions. */
export type { ConsentStatus, ConsentType };

/** A UK OB account reference as the TPP sent it: what a VRP consent's terms (the `vrp` column) still hold. */
export interface ObAccountReference {
  SchemeName: string;
  Identification: string;
  Name?: string;
  SecondaryIdentification?: string;
}

type Json<T> = ColumnType<T, string | undefined, string>;

/** The stored shape of a VRP consent's terms; src/consents/vrp/vrp-terms.ts gives it its type. */
export type VrpTermsColumn = Record<string, unknown>;

/** A customer's consent to one TPP: what it may read or pay, on which accounts, until when. */
export interface ConsentTable {
  id: Generated<string>;
  type: ConsentType;
  client_id: string;
  customer_id: string | null;
  status: ConsentStatus;
  /** The dialect that created it (protocol/consent-types.ts). */
  standard: ColumnType<ConsentStandard, ConsentStandard | undefined, never>;
  /** What may be read, of which accounts (null: those the customer chose), in the order asked. */
  access: Json<ReadAccess[]>;
  expires_at: Date | null;
  transaction_from: Date | null;
  transaction_to: Date | null;
  /** numeric(15,2): pg hands it over as a string, so it never becomes a float. */
  instructed_amount: string | null;
  instructed_currency: string | null;
  creditor_account: ColumnType<AccountReference | null, string | null, string | null>;
  creditor_name: string | null;
  payment_scheme: PaymentScheme | null;
  remittance_reference: string | null;
  instruction_identification: string | null;
  end_to_end_identification: string | null;
  /** The payee's bank (a BIC), when the payment names it (SEPA). */
  creditor_agent: string | null;
  /** The bank date (YYYY-MM-DD) a future-dated payment is to be made on; null: as soon as possible. */
  requested_execution_date: string | null;
  debtor_account: ColumnType<AccountReference | null, string | null, string | null>;
  /** A payment or VRP consent: the account the customer chose to pay from when authorising; null before. */
  paying_account: ColumnType<AccountReference | null, string | null | undefined, string | null>;
  risk: Json<Record<string, unknown>>;
  selected_account_ids: Json<string[]>;
  idempotency_key: string | null;
  request_hash: string | null;
  interaction_uid: string | null;
  grant_id: string | null;
  /** Why the consent ended, when the system ended it (e.g. "authorization code reused"). */
  status_reason: string | null;
  /** Who ended a Revoked or Rejected consent; null while it lives, and for the rows whose history does not say. */
  ended_by: EndedBy | null;
  /** Whether the TPP may come back for the data (UK account access: always); false for a one-off read. */
  recurring: ColumnType<boolean, boolean | undefined, boolean>;
  /** How often a day the TPP may read without the customer present (Berlin Group); null: no limit. */
  frequency_per_day: number | null;
  /** Berlin Group's combinedServiceIndicator: AIS and PIS in one session. */
  combined_service: ColumnType<boolean, boolean | undefined, boolean>;
  /** Where the customer goes back to after authorising, when it comes with the consent (TPP-Redirect-URI). */
  redirect_uri: string | null;
  /** Coarse (at most once a minute): when a token of the consent was last issued or introspected. */
  last_used_at: Date | null;
  /** Domestic VRP only: control parameters and creditor (src/consents/vrp/vrp-terms.ts). */
  vrp: ColumnType<VrpTermsColumn | null, string | null | undefined, string | null>;
  status_updated_at: UpdatedAt;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type VrpPaymentOutcome = 'accepted' | 'refused';

/** Every payment decision under a VRP consent; accepted rows count against its limits. */
export interface VrpPaymentTable {
  id: Generated<string>;
  consent_id: string;
  idempotency_key: string;
  /** The payment asked for ("250.00 GBP"): a key repeated with another payment is refused. */
  request: string;
  /** numeric(15,2): read back as a string, never a float. */
  amount: string;
  currency: string;
  outcome: VrpPaymentOutcome;
  /** The answer given (acceptance with the periods' usage, or the refusal), returned again on a repeated key. */
  answer: ColumnType<Record<string, unknown>, string, never>;
  resource_server: string;
  created_at: ColumnType<Date, Date, never>;
}

/**
 * Every account access a resource server recorded under a consent and was allowed (consents/consent-access.ts);
 * insert-only. frequencyPerDay counts the rows of one bank day without the customer present.
 */
export interface ConsentAccessTable {
  id: Generated<string>;
  consent_id: string;
  /** The database's clock when it was decided. */
  at: ColumnType<Date, Date, never>;
  /**
   * The day of `at` in the bank's time zone: a Postgres date, written as 'YYYY-MM-DD'; node-postgres reads it
   * as a Date at this host's local midnight, so compare days as `bank_date::text`.
   */
  bank_date: ColumnType<Date, string, never>;
  customer_present: ColumnType<boolean, boolean, never>;
  /** What was read ('accounts', 'balances', 'transactions' or the resource server's own label). */
  resource: ColumnType<string, string, never>;
  account_id: ColumnType<string | null, string | null, never>;
  /** The client id of the resource server that recorded it. */
  resource_server: ColumnType<string, string, never>;
}

/** Software statement ids already presented, per directory (replay detection). */
export interface SoftwareStatementUseTable {
  directory: string;
  jti: string;
  expires_at: Date;
  created_at: CreatedAt;
}

/** One fixed-window counter per rate-limit policy and client address. */
export interface RateLimitTable {
  key: string;
  hits: number;
  window_ends_at: Date;
}

export type ConsentUseKind = 'issued' | 'refreshed' | 'introspected';

export type DecoupledRequestStatus = 'pending' | 'approved' | 'denied';

/** A CIBA request as the customer's authentication device sees it (src/ciba/); expiry is read from expires_at. */
export interface DecoupledRequestTable {
  id: Generated<string>;
  /** The provider's CIBA request; null for a consent's decoupled authorisation (authorisation_id), which has none. */
  auth_req_id: string | null;
  /** The consent authorisation this request asks the device to decide (Berlin Group's decoupled approach). */
  authorisation_id: ColumnType<string | null, string | null | undefined, never>;
  client_id: string;
  /** Null when the hint named no customer: nothing is ever shown, the request only expires. */
  customer_id: string | null;
  consent_id: string | null;
  binding_message: string | null;
  scope: string;
  resource: string | null;
  status: ColumnType<DecoupledRequestStatus, DecoupledRequestStatus | undefined, DecoupledRequestStatus>;
  grant_id: string | null;
  expires_at: Date;
  last_polled_at: Date | null;
  decided_at: Date | null;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** How the customer is asked to authorise a consent: the OAuth redirect flow, or their authentication device. */
export type ConsentAuthorisationApproach = 'redirect' | 'decoupled';

/** One attempt at the customer's authorisation of a consent (consents/consent-authorisation.ts); insert-only. */
export interface ConsentAuthorisationTable {
  id: Generated<string>;
  consent_id: string;
  approach: ColumnType<ConsentAuthorisationApproach, ConsentAuthorisationApproach, never>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

/** A use of a consent's tokens (consents/consent-use.ts); insert-only. */
export interface ConsentUseTable {
  id: Generated<string>;
  consent_id: string;
  kind: ConsentUseKind;
  client_id: string;
  occurred_at: ColumnType<Date, Date | undefined, never>;
}

export type BlockedCredentialKind = 'certificate' | 'key';

/** A TPP's compromised client certificate (SHA-256 thumbprint, base64url) or key (kid): refused everywhere. */
export interface BlockedCredentialTable {
  client_id: string;
  kind: BlockedCredentialKind;
  value: string;
  reason: string;
  blocked_by: string | null;
  created_at: CreatedAt;
}

/** A per-client rate limit below the default: the operator's throttle on a misbehaving TPP. */
export interface ClientRateLimitTable {
  client_id: string;
  limit: number;
  window_seconds: number;
  reason: string;
  created_at: CreatedAt;
}

/** A TPP's subscription to event notifications (UK OB callback-urls and event-subscriptions); one per TPP. */
export interface EventSubscriptionTable {
  id: Generated<string>;
  client_id: string;
  /** Where pushed events go; null: the TPP polls. */
  callback_url: string | null;
  version: string;
  /** The event type URNs pushed; null: every type. */
  event_types: ColumnType<string[] | null, string | null, string | null>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type EventPushState = 'none' | 'pending' | 'delivered' | 'dead';

/** The outbox: one event of a consent's change, written in the change's own transaction (src/events/). */
export interface ConsentEventTable {
  /** The Security Event Token's jti. */
  id: Generated<string>;
  /** Emission order; bigint, so pg hands it over as a string. */
  seq: ColumnType<string, never, never>;
  /** The SET's txn: the events of one change share it. */
  txn: string;
  client_id: string;
  consent_id: string;
  /** The SET's consent_seq: 1 for a consent's first event, one more for each later one (consent_event_sequence). */
  consent_seq: ColumnType<number, number, never>;
  consent_type: ConsentType;
  /** The standard of the consent (its `standard`): which version's path and status words its SET carries. */
  consent_standard: ConsentStandard;
  event_type: string;
  status: ConsentStatus;
  reason: string | null;
  occurred_at: CreatedAt;
  /** Acknowledged by polling, or delivered by push. */
  acknowledged_at: Date | null;
  /** What the TPP reported it could not process (RFC 8936 setErrs). */
  recipient_error: ColumnType<{ err: string; description: string } | null, string | null, string | null>;
  push_state: EventPushState;
  attempts: ColumnType<number, number | undefined, number>;
  next_attempt_at: Date | null;
  last_error: string | null;
  delivered_at: Date | null;
  updated_at: UpdatedAt;
}

/** How many events each consent has had: the last consent_seq handed out, kept when the sweep deletes events. */
export interface ConsentEventSequenceTable {
  consent_id: string;
  last_seq: number;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/**
 * One row counting every committed change to a client or its TPP record (triggers): what processes behind a
 * transaction pooler poll instead of listening for `assent_client_changed` (store/client-cache.ts).
 */
export interface ClientChangeCountTable {
  only_row: ColumnType<boolean, never, never>;
  /** bigint, so pg hands it over as a string. */
  changes: ColumnType<string, never, never>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface Database {
  client_change_count: ClientChangeCountTable;
  event_subscription: EventSubscriptionTable;
  consent_event: ConsentEventTable;
  consent_event_sequence: ConsentEventSequenceTable;
  blocked_credential: BlockedCredentialTable;
  client_rate_limit: ClientRateLimitTable;
  dashboard_client_key: DashboardClientKeyTable;
  dashboard_login: DashboardLoginTable;
  dashboard_session: DashboardSessionTable;
  consent: ConsentTable;
  consent_use: ConsentUseTable;
  decoupled_request: DecoupledRequestTable;
  vrp_payment: VrpPaymentTable;
  consent_access: ConsentAccessTable;
  consent_authorisation: ConsentAuthorisationTable;
  oidc_model: OidcModelTable;
  tpp: TppTable;
  software_statement_use: SoftwareStatementUseTable;
  server_secret: ServerSecretTable;
  customer: CustomerTable;
  audit_event: AuditEventTable;
  bank_account: BankAccountTable;
  login_throttle: LoginThrottleTable;
  used_totp_step: UsedTotpStepTable;
  sca_interaction: ScaInteractionTable;
  rate_limit: RateLimitTable;
}

export type AuditEventRow = Selectable<AuditEventTable>;
export type BankAccountRow = Selectable<BankAccountTable>;
export type NewBankAccount = Insertable<BankAccountTable>;

export type TppRow = Selectable<TppTable>;
export type NewTpp = Insertable<TppTable>;
export type ConsentRow = Selectable<ConsentTable>;
export type VrpPaymentRow = Selectable<VrpPaymentTable>;
export type ConsentAccessRow = Selectable<ConsentAccessTable>;
export type NewConsent = Insertable<ConsentTable>;

export type EventSubscriptionRow = Selectable<EventSubscriptionTable>;
export type ConsentEventRow = Selectable<ConsentEventTable>;

export type OidcModelRow = Selectable<OidcModelTable>;
export type CustomerRow = Selectable<CustomerTable>;
export type NewCustomer = Insertable<CustomerTable>;
