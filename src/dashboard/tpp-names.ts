import type { Db } from '../db/connect.ts';
import { getClientDisplay } from '../tpp/tpp-service.ts';
import { httpsLogo } from '../wording/wording.ts';
import type { Tpp, TppDirectory } from './consent-view.ts';

/**
 * A TPP's name and logo as onboarding recorded them; a client that has gone since still shows its id.
 */
export function registeredTpps(db: Db): TppDirectory {
  return {
    async describe(clientId): Promise<Tpp> {
      const display = await getClientDisplay(db, clientId);
      return { clientId, name: display?.name ?? clientId, logoUri: httpsLogo(display?.logoUri) };
    },
  };
}
