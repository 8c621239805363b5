import { REGISTRATION_PATH } from '../oidc/provider.ts';

/**
 * Metric label for a path that none of Assent's own routers matched (they label by their matched
 * route): oidc-provider's endpoints, with every identifier folded away so label cardinality stays
 * fixed whatever clients send; unknown paths become `other`.
 */
const FIXED = new Set([
  '/.well-known/openid-configuration',
  '/jwks',
  '/request',
  '/token',
  '/token/introspection',
  '/token/revocation',
  '/me',
  '/auth',
  REGISTRATION_PATH,
  '/session/end',
]);

const PATTERNS: [RegExp, string][] = [
  [/^\/auth\/[^/]+$/, '/auth/:uid'],
  [new RegExp(`^${REGISTRATION_PATH}/[^/]+$`), `${REGISTRATION_PATH}/:client_id`],
];

export function routeLabel(path: string): string {
  if (FIXED.has(path)) return path;
  for (const [pattern, label] of PATTERNS) {
    if (pattern.test(path)) return label;
  }
  return 'other';
}
