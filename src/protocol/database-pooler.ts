/**
 * What one pooled connection is on the database server (DATABASE_POOLER). `session`: a Postgres session
 * of its own for as long as it is open (a direct connection, HAProxy, a session-pooling PgBouncer).
 * `transaction`: a session lent for one transaction at a time (a transaction-pooling PgBouncer), so
 * nothing may be left on a session between transactions: no named prepared statements, no LISTEN, no
 * session settings or session advisory locks.
 */
export const DATABASE_POOLERS = ['session', 'transaction'] as const;

export type DatabasePooler = (typeof DATABASE_POOLERS)[number];
