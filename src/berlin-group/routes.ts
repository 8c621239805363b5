/**
 * The Berlin Group NextGenPSD2 route rows live with the route table (src/protocol/berlin-group-routes.ts),
 * which splices the served ones into ROUTES; re-exported here for the dialect's modules.
 */
export { BG_PREFIX, BG_ROUTES, BG_SERVED_OPERATIONS, BG_SERVED_ROUTES } from '../protocol/berlin-group-routes.ts';
