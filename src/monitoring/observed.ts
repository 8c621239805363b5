import type { CustomerAuthentication } from '../customers/authentication.ts';
import { type OutboundFetch, OutboundFetchError } from '../http/outbound-fetch.ts';
import type { SecurityEvents } from './security-events.ts';

/** Decorators that count what a service did without the service knowing about metrics. */

export function countSignIns(authentication: CustomerAuthentication, events: SecurityEvents): CustomerAuthentication {
  return {
    async checkPassword(username, password, read) {
      const result = await authentication.checkPassword(username, password, read);
      events.signIn('pwd', result.outcome);
      return result;
    },
    async checkOneTimeCode(customerId, code, read) {
      const result = await authentication.checkOneTimeCode(customerId, code, read);
      events.signIn('otp', result.outcome);
      return result;
    },
  };
}

export function countOutboundRefusals(outbound: OutboundFetch, events: SecurityEvents): OutboundFetch {
  const counted =
    <Args extends unknown[], Result>(call: (...args: Args) => Promise<Result>) =>
    async (...args: Args): Promise<Result> => {
      try {
        return await call(...args);
      } catch (error) {
        if (error instanceof OutboundFetchError) events.outboundRefused();
        throw error;
      }
    };
  return { request: counted(outbound.request), json: counted(outbound.json), asFetch: counted(outbound.asFetch) };
}
