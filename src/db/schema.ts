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
}

export interface CustomerTable {
  id: Generated<string>;
  username: string;
  display_name: string;
  password_hash: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface Database {
  oidc_model: OidcModelTable;
  server_secret: ServerSecretTable;
  customer: CustomerTable;
}

export type OidcModelRow = Selectable<OidcModelTable>;
export type CustomerRow = Selectable<CustomerTable>;
export type NewCustomer = Insertable<CustomerTable>;
