/**
 * Assent has three kinds of clients: TPPs, which get tokens; the bank's resource servers, which only
 * introspect them; and the bank's own first-party applications (the customer dashboard), which sign the
 * customer in through Assent like any client but need no consent screen. The kind is client metadata
 * (`client_kind`), absent meaning TPP.
 */
export const CLIENT_KINDS = ['tpp', 'resource_server', 'first_party'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export function clientKindOf(metadata: Record<string, unknown>): ClientKind {
  const kind = metadata.client_kind;
  return kind === 'resource_server' || kind === 'first_party' ? kind : 'tpp';
}
