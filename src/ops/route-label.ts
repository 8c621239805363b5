import { routeTemplate } from '../protocol/route-match.ts';

/**
 * Metric label for a request path with every identifier folded away, so label cardinality stays fixed
 * whatever clients send: the route table's template (`/interaction/:uid/login`), or `other` for a path
 * that is not a route.
 */
export function routeLabel(path: string): string {
  return routeTemplate(path) ?? 'other';
}
