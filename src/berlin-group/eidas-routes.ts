import type { Router } from '@koa/router';
import type { Middleware } from 'koa';
import type { Logger } from 'pino';
import { type DeclaredRoutes, declaredRoutes } from '../http/declared-routes.ts';
import { assertRole } from '../tpp/eidas-identity.ts';
import type { EidasState, EidasTppMiddleware } from '../tpp/eidas-middleware.ts';
import type { BgScaDeps } from './bg-authorisation-routes.ts';
import type { BankCalendar } from './bg-bank-time.ts';

/** What every Berlin Group router is built with. `issuer` also gives a created resource's Location. */
export interface BgRouterDeps extends BgScaDeps {
  logger: Logger;
  /** Identifies the TPP by its QWAC (tpp/eidas-middleware.ts). */
  eidasTpp: EidasTppMiddleware;
  /** The bank's calendar (BANK_TIME_ZONE): validUntil, lastActionDate, requestedExecutionDate. */
  calendar: BankCalendar;
}

/**
 * The Berlin Group routers' mount of their rows: each route behind the eIDAS identification of the TPP,
 * admitted only with the PSD2 role its row names (ROLE_INVALID otherwise, before anything is written).
 */
export function eidasRoutes<State extends EidasState>(router: Router, eidasTpp: EidasTppMiddleware): DeclaredRoutes<never, State> {
  return declaredRoutes<never, State>(router, {
    eidas: { identify: (role) => eidasTpp((tpp) => assertRole(tpp, role)) as Middleware<State> },
  });
}
