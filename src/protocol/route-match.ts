import { type Method, type Route, ROUTES } from './routes.ts';

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
