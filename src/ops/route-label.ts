/**
 * Metric label for a request path with every identifier folded away, so label cardinality stays fixed
 * whatever clients send: interaction and resume uids become `:uid`, unknown paths become `other`.
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
  '/reg',
  '/session/end',
  '/healthz',
  '/readyz',
  '/metrics',
  '/assets/assent.css',
]);

const PATTERNS: [RegExp, string][] = [
  [/^\/interaction\/[^/]+$/, '/interaction/:uid'],
  [/^\/interaction\/[^/]+\/(login|confirm|abort|otp)$/, '/interaction/:uid/$1'],
  [/^\/auth\/[^/]+$/, '/auth/:uid'],
  [/^\/reg\/[^/]+$/, '/reg/:client_id'],
];

export function routeLabel(path: string): string {
  if (FIXED.has(path)) return path;
  for (const [pattern, label] of PATTERNS) {
    if (pattern.test(path)) return path.replace(pattern, label);
  }
  return 'other';
}
