/**
 * Assent has two kinds of clients: TPPs, which get tokens, and the bank's resource servers, which only
 * introspect them. The kind is client metadata (`client_kind`), absent meaning TPP.
 */
export const CLIENT_KINDS = ['tpp', 'resource_server'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

export function clientKindOf(metadata: Record<string, unknown>): ClientKind {
  return metadata.client_kind === 'resource_server' ? 'resource_server' : 'tpp';
}
