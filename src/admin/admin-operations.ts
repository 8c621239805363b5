import type { AdminOperation } from './admin-operation.ts';
import { auditOperations } from './operations/audit-operations.ts';
import { consentOperations } from './operations/consent-operations.ts';
import { customerOperations } from './operations/customer-operations.ts';
import { incidentOperations } from './operations/incident-operations.ts';
import { keyOperations } from './operations/key-operations.ts';
import { resourceServerOperations } from './operations/resource-server-operations.ts';
import { tppOperations } from './operations/tpp-operations.ts';

/** Every operator action; the admin API, the admin CLI and the OpenAPI document are all built from this list. */
export const ADMIN_OPERATIONS: readonly AdminOperation[] = [
  ...customerOperations,
  ...tppOperations,
  ...consentOperations,
  ...auditOperations,
  ...keyOperations,
  ...resourceServerOperations,
  ...incidentOperations,
];

/** Where the admin API lives on its listener. */
export const ADMIN_API_PREFIX = '/admin/v1';
