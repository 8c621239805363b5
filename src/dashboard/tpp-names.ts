import type { Provider } from 'oidc-provider';
import type { Tpp, TppDirectory } from './consent-view.ts';

/** A TPP's name and logo as registered; a client that has gone since still shows its id. */
export function registeredTpps(provider: Provider): TppDirectory {
  return {
    async describe(clientId): Promise<Tpp> {
      const client = await provider.Client.find(clientId);
      const logo = client?.logoUri;
      return { clientId, name: client?.clientName ?? clientId, logoUri: typeof logo === 'string' && logo.startsWith('https://') ? logo : undefined };
    },
  };
}
