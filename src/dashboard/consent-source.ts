import type { Db } from '../db/connect.ts';
import type { ConsentDirectory } from './consent-directory.ts';

/** Stand-in until the consent model is merged: no consents yet. */
export function consentSource(_db: Db): ConsentDirectory {
  return {
    listForCustomer: async () => [],
    findForCustomer: async () => undefined,
    revoke: async () => { throw new Error('the consent model is not available yet'); },
    revokeAllWithTpp: async () => [],
    history: async () => [],
  };
}
