import type { Logger } from 'pino';
import { appendAuditEvent } from '../audit/audit-trail.ts';
import type { DecoupledDevice, DecoupledProgress } from '../consents/consent-authorisation.ts';
import { findCustomer, getActiveCustomer } from '../customers/customer-service.ts';
import type { Db } from '../db/connect.ts';
import { getClientDisplay } from '../tpp/tpp-service.ts';
import type { TriggerAuthenticationDevice } from './authentication-device.ts';
import { findAuthorisationRequests, insertDecoupledRequest } from './decoupled-repository.ts';

/**
 * A consent's decoupled authorisation (the Berlin Group's DECOUPLED approach) on the customer's
 * authentication device of CIBA: the same decoupled_request row, listed and decided by the same page and
 * app endpoint (decoupled-decisions.ts), but with no CIBA request of the provider behind it and no token
 * to issue. The customer PSU-ID names is found by username; one who does not exist or is disabled gets a
 * request no one sees, which lapses like an ignored one, so the TPP's answers are the same either way.
 */

export interface DecoupledAuthorisationDeps {
  db: Db;
  logger: Logger;
  trigger: TriggerAuthenticationDevice;
  /** How long the device's request waits for the customer (CIBA_REQUEST_LIFETIME). */
  lifetimeSeconds: number;
}

export function decoupledAuthorisationDevice(deps: DecoupledAuthorisationDeps): DecoupledDevice {
  const { db } = deps;
  return {
    async prepare({ psuId, clientId }) {
      const named = await findCustomer(db, psuId);
      const customerId = (named && (await getActiveCustomer(db, named.id))?.id) ?? null;
      let notice: Parameters<TriggerAuthenticationDevice>[0] | undefined;
      return {
        async alongside(trx, { authorisation, consent }) {
          const inserted = await insertDecoupledRequest(
            trx,
            {
              auth_req_id: null,
              authorisation_id: authorisation.id,
              client_id: clientId,
              customer_id: customerId,
              consent_id: consent.id,
              binding_message: null,
              scope: '',
              resource: null,
            },
            { lifetimeSeconds: deps.lifetimeSeconds },
          );
          await appendAuditEvent(trx, {
            subjectType: 'decoupled_request',
            subjectId: inserted.id,
            event: 'decoupled_request.requested',
            actor: { kind: 'tpp', id: clientId },
            details: { consentId: consent.id, authorisationId: authorisation.id, customerId, expiresAt: inserted.expires_at.toISOString() },
          });
          if (customerId)
            notice = {
              requestId: inserted.id,
              customerId,
              clientId,
              tppName: '',
              bindingMessage: '',
              consentId: consent.id,
              expiresAt: inserted.expires_at,
            };
        },
        afterCommit() {
          if (!notice) return;
          const told = notice;
          // Not awaited: the TPP's answer neither waits for the bank's push channel nor depends on it.
          const notify = async () => {
            const tpp = await getClientDisplay(db, clientId);
            await deps.trigger({ ...told, tppName: tpp?.name ?? clientId });
          };
          notify().catch((error: unknown) =>
            deps.logger.warn(
              { err: error, requestId: told.requestId },
              'the authentication device could not be told of a decoupled request',
            ),
          );
        },
      };
    },

    async progress(authorisationIds) {
      const rows = await findAuthorisationRequests(db, authorisationIds);
      return new Map(rows.map((row) => [row.authorisationId, (row.lapsed ? 'lapsed' : 'asked') satisfies DecoupledProgress]));
    },
  };
}
