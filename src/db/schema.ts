import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

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

export type ServerSecretKind = 'signing' | 'cookie';

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
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export type AuditSubjectType = 'consent' | 'tpp' | 'customer' | 'resource_server' | 'key';
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
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

/** One fixed-window counter per rate-limit policy and client address. */
export interface RateLimitTable {
  key: string;
  hits: number;
  window_ends_at: Date;
}

export interface Database {
  oidc_model: OidcModelTable;
  server_secret: ServerSecretTable;
  customer: CustomerTable;
  audit_event: AuditEventTable;
  bank_account: BankAccountTable;
  rate_limit: RateLimitTable;
}

export type AuditEventRow = Selectable<AuditEventTable>;
export type BankAccountRow = Selectable<BankAccountTable>;
export type NewBankAccount = Insertable<BankAccountTable>;

export type OidcModelRow = Selectable<OidcModelTable>;
export type CustomerRow = Selectable<CustomerTable>;
export type NewCustomer = Insertable<CustomerTable>;
