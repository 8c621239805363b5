/**
 * The Berlin Group NextGenPSD2 route rows live with the route table (src/protocol/berlin-group-routes.ts),
 * which splices them into ROUTES; re-exported here for the dialect's modules.
 */
export { BG_PREFIX, BG_ROUTES } from '../protocol/berlin-group-routes.ts';
