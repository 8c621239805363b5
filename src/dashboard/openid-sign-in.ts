import type { webcrypto } from 'node:crypto';
import { importJWK, type JWK } from 'jose';
import * as oidc from 'openid-client';
import { SCA_ACR } from '../protocol/acr.ts';
import { AssentError } from '../protocol/assent-error.ts';
import { DASHBOARD_CLIENT_ALG, DASHBOARD_CLIENT_ID, dashboardRedirectUri } from './dashboard-client.ts';

/**
 * The dashboard's side of the authorization code flow, with openid-client as the relying party:
 * PAR with PKCE S256, `prompt=login` and the SCA `acr` as essential (every dashboard sign-in runs
 * both factors, never rides on a left-over session of a TPP flow), then the code exchange with private_key_jwt and a DPoP proof.
 * The dashboard keeps nothing of the tokens but the ID token's `sub` and `acr`.
 */

export interface PendingSignIn {
  codeVerifier: string;
  state: string;
  nonce: string;
}

export interface SignedIn {
  customerId: string;
  acr: string | undefined;
}

/** A sign-in the customer can retry; `messageKey` is what the page tells them (src/wording/). */
export class SignInFailed extends AssentError {
  override name = 'SignInFailed';
  readonly messageKey: 'dash.signIn.cancelled' | 'dash.signIn.failed' | 'dash.signIn.incomplete';
  constructor(messageKey: SignInFailed['messageKey'], options: { cause?: unknown } = {}) {
    super('sign_in_failed', messageKey, options);
    this.messageKey = messageKey;
  }
}

export interface OpenIdSignInSettings {
  issuer: string;
  clientKey: JWK;
  fetch: oidc.CustomFetch;
}

export function createOpenIdSignIn(settings: OpenIdSignInSettings) {
  let configuration: Promise<oidc.Configuration> | undefined;

  // Discovery waits for the first sign-in: the listener the loopback fetch needs is up by then.
  function discover() {
    configuration ??= (async () => {
      const key = (await importJWK(settings.clientKey, DASHBOARD_CLIENT_ALG)) as webcrypto.CryptoKey;
      const config = await oidc.discovery(
        new URL(settings.issuer),
        DASHBOARD_CLIENT_ID,
        { id_token_signed_response_alg: DASHBOARD_CLIENT_ALG },
        oidc.PrivateKeyJwt({ key, kid: settings.clientKey.kid }),
        { [oidc.customFetch]: settings.fetch },
      );
      config[oidc.customFetch] = settings.fetch;
      return config;
    })();
    configuration.catch(() => {
      configuration = undefined;
    });
    return configuration;
  }

  return {
    /** Pushes the authorization request; the customer's browser goes to the returned URL. */
    async begin(): Promise<{ url: URL; pending: PendingSignIn }> {
      const config = await discover();
      const pending = { codeVerifier: oidc.randomPKCECodeVerifier(), state: oidc.randomState(), nonce: oidc.randomNonce() };
      const url = await oidc.buildAuthorizationUrlWithPAR(config, {
        redirect_uri: dashboardRedirectUri(settings.issuer),
        scope: 'openid',
        prompt: 'login',
        // Revoking consents is acting on the customer's accounts: strong customer authentication, always.
        claims: JSON.stringify({ id_token: { acr: { essential: true, value: SCA_ACR } } }),
        code_challenge: await oidc.calculatePKCECodeChallenge(pending.codeVerifier),
        code_challenge_method: 'S256',
        state: pending.state,
        nonce: pending.nonce,
      });
      return { url, pending };
    },

    /** Checks the callback against the pending sign-in and redeems the code for the ID token. */
    async complete(callbackUrl: URL, pending: PendingSignIn): Promise<SignedIn> {
      const config = await discover();
      // The access token is never used, yet the client is DPoP-bound: a throwaway key satisfies the rule.
      const dpop = oidc.getDPoPHandle(config, await oidc.randomDPoPKeyPair('ES256'));
      const tokens = await oidc
        .authorizationCodeGrant(
          config,
          callbackUrl,
          { pkceCodeVerifier: pending.codeVerifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true },
          undefined,
          { DPoP: dpop },
        )
        .catch((error: unknown) => {
          if (error instanceof oidc.AuthorizationResponseError && error.error === 'access_denied') {
            throw new SignInFailed('dash.signIn.cancelled', { cause: error });
          }
          // A refused or tampered callback (wrong state, reused code, bad ID token) is the customer's to retry.
          if (
            error instanceof oidc.AuthorizationResponseError ||
            error instanceof oidc.ResponseBodyError ||
            error instanceof oidc.ClientError
          ) {
            throw new SignInFailed('dash.signIn.failed', { cause: error });
          }
          throw error;
        });
      const claims = tokens.claims()!;
      if (claims.acr !== SCA_ACR) throw new SignInFailed('dash.signIn.incomplete');
      return { customerId: claims.sub, acr: claims.acr };
    },
  };
}

export type OpenIdSignIn = ReturnType<typeof createOpenIdSignIn>;
