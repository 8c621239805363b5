import { BG_PREFIX } from './berlin-group-routes.ts';
import type { ConsentStandard } from './consent-types.ts';
import { type Method, OB_API_PREFIX, OB_V4_API_PREFIX, type Route, ROUTES } from './routes.ts';

/** A path template as a pattern: each `:name` matches one non-empty segment. */
function patternOf(template: string): RegExp {
  const escaped = template.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace(/:[A-Za-z]+/g, '[^/]+');
  return new RegExp(`^${escaped}$`);
}

const FIXED = new Map<string, Route[]>();
const PATTERNED: { pattern: RegExp; route: Route }[] = [];
for (const route of ROUTES) {
  if (route.path.includes(':')) PATTERNED.push({ pattern: patternOf(route.path), route });
  else FIXED.set(route.path, [...(FIXED.get(route.path) ?? []), route]);
}

function routesAt(path: string): Route[] {
  const fixed = FIXED.get(path);
  if (fixed) return fixed;
  return PATTERNED.filter(({ pattern }) => pattern.test(path)).map(({ route }) => route);
}

/** The table's row for a request, if it names one. */
export function findRoute(method: string, path: string): Route | undefined {
  return routesAt(path).find((route) => route.method === (method as Method));
}

/** The template of the path a request names, whatever its method; undefined for a path not in the table. */
export function routeTemplate(path: string): string | undefined {
  return routesAt(path)[0]?.path;
}

/** The standard a route speaks, in the words introspection and the admin tools use; `none` for the others (OAuth, pages, bank API). */
export type RouteStandard = ConsentStandard | 'none';

/**
 * Which prefix of the table's rows holds which standard: every UK OB v3.1 row (consents, VRP funds
 * confirmation, the Event Notification API) is under OB_API_PREFIX, every v4.0 row under
 * OB_V4_API_PREFIX, every Berlin Group row under BG_PREFIX.
 */
const STANDARD_PREFIXES: readonly (readonly [string, ConsentStandard])[] = [
  [OB_V4_API_PREFIX, 'uk_ob_v4'],
  [OB_API_PREFIX, 'uk_ob_v3'],
  [BG_PREFIX, 'berlin_group'],
];

/** The standard of a row's path template (or of any path), by the prefix it is under. */
export function routeStandard(path: string): RouteStandard {
  return STANDARD_PREFIXES.find(([prefix]) => path === prefix || path.startsWith(`${prefix}/`))?.[1] ?? 'none';
}
