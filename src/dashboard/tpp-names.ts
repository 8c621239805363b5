import type { Db } from '../db/connect.ts';
import { getClientDisplay, organisationOfClient } from '../tpp/tpp-service.ts';
import { httpsLogo } from '../wording/wording.ts';
import type { Tpp, TppDirectory } from './consent-view.ts';

/**
 * A TPP's name and logo as onboarding recorded them, and the organisation it belongs to; a client that
 * has gone since still shows its id.
 */
export function registeredTpps(db: Db): TppDirectory {
  return {
    async describe(clientId): Promise<Tpp> {
      const [display, organisation] = await Promise.all([getClientDisplay(db, clientId), organisationOfClient(db, clientId)]);
      return { clientId, name: display?.name ?? clientId, logoUri: httpsLogo(display?.logoUri), organisation };
    },
  };
}
