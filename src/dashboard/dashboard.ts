import type { Provider } from 'oidc-provider';
import type { AccountDirectory } from '../customers/account-directory.ts';
import { getCustomer } from '../customers/customer-service.ts';
import type { Db } from '../db/connect.ts';
import type { Csrf } from '../http/csrf.ts';
import type { Views } from '../http/views.ts';
import { consentSource } from './consent-source.ts';
import { registerDashboardClient } from './dashboard-client.ts';
import { type LocalListener, loopbackFetch } from './loopback-fetch.ts';
import { createOpenIdSignIn } from './openid-sign-in.ts';
import { type DashboardDeps, dashboardRouter } from './router.ts';
import type { SessionPolicy } from './session-service.ts';
import { registeredTpps } from './tpp-names.ts';

export interface DashboardSettings {
  db: Db;
  /** The bank's account directory, shared with the consent pages. */
  accounts: AccountDirectory;
  issuer: string;
  listener: LocalListener;
  sessions: SessionPolicy;
}

export type Dashboard = Omit<DashboardDeps, 'views' | 'csrf' | 'provider' | 'decoupledWaiting'>;

/** What the app wires in from the layers above the dashboard. */
export interface DashboardSurroundings {
  views: Views;
  csrf: Csrf;
  /** Whose session of the browser ends with the dashboard's (sign-out-everywhere.ts). */
  provider: Provider;
  /** The decoupled requests waiting for a customer, counted by ciba/ (above the dashboard in the layer map). */
  decoupledWaiting: DashboardDeps['decoupledWaiting'];
}

/** Registers the dashboard's client and wires its collaborators; the app mounts it with its views. */
export async function setUpDashboard(settings: DashboardSettings): Promise<Dashboard> {
  const { db, issuer } = settings;
  const clientKey = await registerDashboardClient(db, issuer);
  return {
    db,
    issuer,
    sessions: settings.sessions,
    signIn: createOpenIdSignIn({ issuer, clientKey, fetch: loopbackFetch(settings.listener) }),
    consents: consentSource(db),
    accounts: settings.accounts,
    tpps: registeredTpps(db),
    customerOf: (id) => getCustomer(db, id),
  };
}

export function mountDashboard(dashboard: Dashboard, surroundings: DashboardSurroundings) {
  return dashboardRouter({ ...dashboard, ...surroundings });
}
