import { errors, type Provider } from 'oidc-provider';
import type { Db } from '../db/connect.ts';
import { aroundGrant, checkDpopProofFirst } from '../engine/engine-internals.ts';
import { CIBA_GRANT_TYPE } from '../protocol/ciba.ts';
import { notePoll } from './decoupled-repository.ts';

/**
 * What oidc-provider's CIBA grant leaves to the deployment, checked at the token endpoint before the
 * library's handler (after client authentication): `slow_down` for a TPP that polls a pending request
 * faster than the interval it was given, counted in Postgres so it holds across instances; and
 * `expired_token` for a request past its lifetime, which the adapter no longer finds (the library
 * would say invalid_grant). A request the customer denied stays `access_denied`. The DPoP proof is
 * checked first: a poll refused for want of a server nonce is not a poll, or its retry would be `slow_down`.
 */
export function guardCibaPolling(provider: Provider, db: Db, intervalSeconds: number): void {
  aroundGrant(provider, CIBA_GRANT_TYPE, async (ctx, next) => {
    const authReqId = ctx.oidc.params?.auth_req_id;
    if (typeof authReqId !== 'string' || !ctx.oidc.client) return next();
    await checkDpopProofFirst(ctx);
    const poll = await notePoll(db, authReqId, ctx.oidc.client.clientId);
    if (!poll) return next();
    if (poll.expired) {
      if (poll.status === 'denied') throw new errors.AccessDenied('the customer denied the request');
      throw new errors.ExpiredToken('backchannel authentication request is expired');
    }
    if (poll.status === 'pending' && poll.sincePreviousPoll !== null && poll.sincePreviousPoll < intervalSeconds) {
      throw new errors.SlowDown(`poll at most every ${intervalSeconds} seconds`);
    }
    return next();
  });
}
