import { z } from 'zod';
import { CALLERS, credentialOf, type Route, ROUTES } from '../protocol/routes.ts';
import { type AdminOperation, operation } from './admin-operation.ts';
import { auditOperations } from './operations/audit-operations.ts';
import { consentOperations } from './operations/consent-operations.ts';
import { customerOperations } from './operations/customer-operations.ts';
import { incidentOperations } from './operations/incident-operations.ts';
import { eventOperations } from './operations/event-operations.ts';
import { keyOperations } from './operations/key-operations.ts';
import { resourceServerOperations } from './operations/resource-server-operations.ts';
import { tppOperations } from './operations/tpp-operations.ts';

/** Where the admin API lives on its listener. */
export const ADMIN_API_PREFIX = '/admin/v1';
/** The admin API's own OpenAPI document, served beside its operations. */
export const ADMIN_OPENAPI_PATH = '/admin/openapi.json';

/**
 * An admin operation's OpenAPI operationId, from its command name (unique among operations):
 * `consent:revoke` -> `consent_revoke`, `customer:reset-authenticator` -> `customer_resetAuthenticator`.
 * The ids the admin API's document has always had, so generated operator clients keep working.
 */
export function adminOperationId(declared: AdminOperation): string {
  return declared.name.replace(':', '_').replace(/-(\w)/g, (_, letter: string) => letter.toUpperCase());
}

/**
 * Every route Assent serves, for operators (`api:inventory`), the OpenAPI document (src/openapi/: every
 * row with an operationId) and the shadow/zombie test (test/admin/api-inventory.test.ts): the public route
 * table (src/protocol/routes.ts) and the admin API, whose routes come from the list of admin operations below.
 */
export function apiInventory(): Route[] {
  const admin = ADMIN_OPERATIONS.map((each): Route => ({
    method: each.method,
    path: `${ADMIN_API_PREFIX}${each.path}`,
    servedBy: 'admin',
    caller: 'operator',
    purpose: `${each.name}: ${each.summary}`,
    operationId: adminOperationId(each),
  }));
  const adminDocument: Route = {
    method: 'GET',
    path: ADMIN_OPENAPI_PATH,
    servedBy: 'admin',
    caller: 'anyone',
    purpose: "the admin API's part of the OpenAPI document",
    operationId: 'getAdminOpenApiDocument',
  };
  return [...ROUTES, adminDocument, ...admin];
}

const inventory = operation({
  name: 'api:inventory',
  summary:
    'lists every route Assent serves: method, path, who may call it, its rate-limit policy, purpose and (JSON APIs) OpenAPI operationId and credential',
  method: 'GET',
  path: '/inventory',
  input: z.object({ caller: z.enum(CALLERS).optional() }),
  format: 'jsonl',
  async run(_context, input) {
    return (
      apiInventory()
        .filter((route) => !input.caller || route.caller === input.caller)
        // A JSON API names how its caller proves itself, as its OpenAPI operation does; a page names neither.
        .map((route) => {
          const { credential: _declared, ...described } = route;
          return route.operationId ? { ...described, credential: credentialOf(route) } : described;
        })
    );
  },
});

/** Every operator action; the admin API, the admin CLI and the OpenAPI document are all built from this list. */
export const ADMIN_OPERATIONS: readonly AdminOperation[] = [
  ...customerOperations,
  ...tppOperations,
  ...consentOperations,
  ...auditOperations,
  ...keyOperations,
  ...resourceServerOperations,
  ...incidentOperations,
  ...eventOperations,
  inventory,
];
