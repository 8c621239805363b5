import { z } from 'zod';
import { CALLERS, type Route, ROUTES } from '../protocol/routes.ts';
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
 * Every route Assent serves, for operators (`api:inventory`) and the shadow/zombie test
 * (test/api-inventory.test.ts): the public route table (src/protocol/routes.ts) and the admin API,
 * whose routes come from the list of admin operations below.
 */
export function apiInventory(): Route[] {
  const admin = ADMIN_OPERATIONS.map((each): Route => ({
    method: each.method,
    path: `${ADMIN_API_PREFIX}${each.path}`,
    servedBy: 'admin',
    caller: 'operator',
    purpose: `${each.name}: ${each.summary}`,
  }));
  return [...ROUTES, { method: 'GET', path: ADMIN_OPENAPI_PATH, servedBy: 'admin', caller: 'anyone', purpose: "the admin API's OpenAPI document" }, ...admin];
}

const inventory = operation({
  name: 'api:inventory',
  summary: 'lists every route Assent serves: method, path, who may call it, its rate-limit policy and purpose',
  method: 'GET',
  path: '/inventory',
  input: z.object({ caller: z.enum(CALLERS).optional() }),
  format: 'jsonl',
  async run(_context, input) {
    return apiInventory().filter((route) => !input.caller || route.caller === input.caller);
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
