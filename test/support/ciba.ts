import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import { fetch } from 'undici';
import { CIBA_GRANT_TYPE } from '../../src/protocol/ciba.ts';
import { DECOUPLED_PATHS } from '../../src/protocol/routes.ts';
import { type TestAssent, tlsAgent } from './assent.ts';
import { CustomerAgent } from './customer-agent.ts';
import { signInToDashboard } from './dashboard.ts';
import { callRegistration, dpopClientMetadata, issueSsa, type OnboardingKit, tppFromRegistration } from './onboarding.ts';
import type { TestTpp } from './tpp.ts';

/** A TPP registered through DCR for CIBA (DPoP-bound tokens), as openid-client sees it, with its statement's key. */
export interface CibaTpp extends TestTpp {
  kit: OnboardingKit;
}

export async function registerCibaTpp(assent: TestAssent, ciba: Record<string, unknown> = {}, name = 'Till Pay'): Promise<CibaTpp> {
  const kit = await issueSsa(assent, { name });
  const registered = await callRegistration(assent, kit.agent, {
    json: dpopClientMetadata(kit, {
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials', CIBA_GRANT_TYPE],
      backchannel_token_delivery_mode: 'poll',
      backchannel_authentication_request_signing_alg: 'PS256',
      ...ciba,
    }),
  });
  if (registered.status !== 201) throw new Error(`CIBA registration refused: ${JSON.stringify(registered.body)}`);
  return { ...(await tppFromRegistration(assent, kit, String(registered.body.client_id))), kit };
}

/** The signed authentication request (FAPI-CIBA: a request object signed with the TPP's key). */
export function signedCibaRequest(assent: Pick<TestAssent, 'issuer'>, tpp: TestTpp, claims: Record<string, unknown>): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ scope: 'openid accounts', ...claims })
    .setProtectedHeader({ alg: 'PS256', kid: tpp.kid, typ: 'JWT' })
    .setIssuer(tpp.clientId)
    .setAudience(assent.issuer)
    .setIssuedAt(now)
    .setNotBefore(now)
    .setExpirationTime(now + 300)
    .setJti(randomUUID())
    .sign(tpp.privateKey);
}

export const intentClaimsObject = (consentId: string) => ({ id_token: { openbanking_intent_id: { value: consentId, essential: true } } });

/** openid-client's CIBA initiation with a signed request. */
export async function initiate(assent: Pick<TestAssent, 'issuer'>, tpp: TestTpp, claims: Record<string, unknown>) {
  return oidc.initiateBackchannelAuthentication(tpp.config, { request: await signedCibaRequest(assent, tpp, claims) });
}

/** One poll of the token endpoint (no waiting), with the TPP's DPoP key: the OAuth error code, or the tokens. */
export async function pollOnce(tpp: TestTpp, authReqId: string, dpop?: oidc.DPoPHandle): Promise<string | oidc.TokenEndpointResponse> {
  try {
    return await oidc.genericGrantRequest(tpp.config, CIBA_GRANT_TYPE, { auth_req_id: authReqId }, { DPoP: dpop });
  } catch (error) {
    if (error instanceof oidc.ResponseBodyError) return error.error;
    throw error;
  }
}

export interface JsonAnswer {
  status: number;
  body: Record<string, unknown>;
}

/** The bank app's side: the JSON endpoint with the customer's dashboard session. */
export class DeviceApp {
  readonly #assent: TestAssent;
  readonly #cookie: string;

  private constructor(assent: TestAssent, cookie: string) {
    this.#assent = assent;
    this.#cookie = cookie;
  }

  static async signIn(assent: TestAssent, customer: { username: string; password: string; nextCode(): string }): Promise<DeviceApp> {
    const { callback } = await signInToDashboard(new CustomerAgent(tlsAgent(assent.ca.certPem), assent.issuer), assent.issuer, customer);
    const cookie = callback.headers.getSetCookie().find((header) => header.startsWith('__Host-assent-dashboard='));
    if (!cookie) throw new Error('no dashboard session cookie');
    return new DeviceApp(assent, cookie.split(';')[0]!);
  }

  async call(method: 'GET' | 'POST', path: string, body?: unknown, contentType = 'application/json'): Promise<JsonAnswer> {
    const response = await fetch(`${this.#assent.issuer}${path}`, {
      method,
      dispatcher: tlsAgent(this.#assent.ca.certPem),
      headers: { cookie: this.#cookie, ...(body !== undefined && { 'content-type': contentType }) },
      ...(body !== undefined && { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await response.text();
    return { status: response.status, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
  }

  async pending(): Promise<
    {
      id: string;
      binding_message: string;
      payment_digest: string | null;
      consent: { id: string; heading: string };
      accounts: { options: { id: string }[] };
    }[]
  > {
    const answer = await this.call('GET', DECOUPLED_PATHS.api);
    if (answer.status !== 200) throw new Error(`listing failed: ${answer.status} ${JSON.stringify(answer.body)}`);
    return answer.body.requests as never;
  }

  approve(id: string, body: { code: string; account_ids: string[]; payment_digest?: string }) {
    return this.call('POST', `${DECOUPLED_PATHS.api}/${id}/approve`, body);
  }

  deny(id: string) {
    return this.call('POST', `${DECOUPLED_PATHS.api}/${id}/deny`, {});
  }
}
