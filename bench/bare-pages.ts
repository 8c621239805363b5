import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Provider } from 'oidc-provider';
import { verifyPassword } from '../src/customers/passwords.ts';
import { matchTotpStep } from '../src/customers/totp.ts';

/** A customer of the bare engine: the argon2id hash (Assent's parameters) and the authenticator's secret. */
export interface BareCustomer {
  username: string;
  passwordHash: string;
  totpSecret: string;
}

const page = (uid: string, action: string, fields: string) =>
  `<!doctype html><title>${action}</title><form method="post" action="/interaction/${uid}/${action}"><input type="hidden" name="csrf_token" value="-">${fields}</form>`;

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * The least a server on this engine must do for the bench's complete flow (the pages of the same
 * flow, the same two factors): an argon2id verify of the password with Assent's parameters, a TOTP
 * check, a grant of what the request asks. No CSRF, audit, consent records, lockout, activity clock
 * or database: the floor Assent's complete flow is measured against. The password step is remembered
 * in memory by interaction.
 */
export function barePages(provider: Provider, customers: BareCustomer[]) {
  const byUsername = new Map(customers.map((customer) => [customer.username, customer]));
  const passwordVerified = new Map<string, BareCustomer>();

  return async function serve(req: IncomingMessage, res: ServerResponse): Promise<boolean> {
    const match = /^\/interaction\/([\w-]+)(?:\/(login|otp|confirm))?$/.exec(new URL(req.url ?? '/', 'https://bare').pathname);
    if (!match) return false;
    const [, uid, step] = match as unknown as [string, string, string | undefined];
    const interaction = await provider.interactionDetails(req, res);
    const send = (status: number, body: string) => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8' }).end(body);
      return true;
    };
    const again = () => {
      res.writeHead(303, { location: `/interaction/${uid}` }).end();
      return true;
    };
    if (req.method === 'GET') {
      if (interaction.prompt.name === 'consent') return send(200, page(uid, 'confirm', '<button>Allow</button>'));
      if (passwordVerified.has(uid)) return send(200, page(uid, 'otp', '<input name="code">'));
      return send(200, page(uid, 'login', '<input name="username"><input name="password" type="password">'));
    }
    const form = await formOf(req);
    if (step === 'login') {
      const customer = byUsername.get(form.get('username') ?? '');
      if (!customer || !(await verifyPassword(customer.passwordHash, form.get('password') ?? ''))) return send(401, 'wrong password');
      passwordVerified.set(uid, customer);
      return again();
    }
    if (step === 'otp') {
      const customer = passwordVerified.get(uid);
      if (!customer || matchTotpStep(customer.totpSecret, form.get('code') ?? '') === undefined) return send(401, 'wrong code');
      passwordVerified.delete(uid);
      await provider.interactionFinished(req, res, { login: { accountId: customer.username } }, { mergeWithLastSubmission: false });
      return true;
    }
    const { prompt, params, session } = interaction;
    const details = prompt.details as {
      missingOIDCScope?: string[];
      missingOIDCClaims?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    const grant = new provider.Grant({ accountId: session!.accountId, clientId: String(params.client_id) });
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingOIDCClaims) grant.addOIDCClaims(details.missingOIDCClaims);
    for (const [indicator, scopes] of Object.entries(details.missingResourceScopes ?? {}))
      grant.addResourceScope(indicator, scopes.join(' '));
    await provider.interactionFinished(req, res, { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
    return true;
  };
}
