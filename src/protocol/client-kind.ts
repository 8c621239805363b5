/**
 * Assent has four kinds of clients: TPPs, which get tokens; TPPs known by their eIDAS certificate
 * (Berlin Group), which get tokens too but registered nothing (tpp/eidas-client.ts makes their client on
 * first contact); the bank's resource servers, which only introspect them; and the bank's own
 * first-party applications (the customer dashboard), which sign the customer in through Assent like any
 * client but need no consent screen. The kind is client metadata (`client_kind`), absent meaning TPP.
 */
export const CLIENT_KINDS = ['tpp', 'eidas_tpp', 'resource_server', 'first_party'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export function clientKindOf(metadata: Record<string, unknown>): ClientKind {
  const kind = metadata.client_kind;
  return kind === 'resource_server' || kind === 'first_party' || kind === 'eidas_tpp' ? kind : 'tpp';
}
