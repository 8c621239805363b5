import { createHash, type X509Certificate } from 'node:crypto';
import type { Middleware } from 'koa';
import type { Db } from '../db/connect.ts';
import type { ClientCertificateReader } from './client-certificate.ts';

/** The certificate's SHA-256 thumbprint as cnf `x5t#S256` carries it (base64url of the DER digest). */
export function certificateThumbprint(certificate: X509Certificate): string {
  return createHash('sha256').update(certificate.raw).digest('base64url');
}

/**
 * An operator's thumbprint in either common spelling: hex (as `openssl x509 -fingerprint -sha256`
 * prints it, colons optional) or base64url; undefined when it is neither.
 */
export function normaliseThumbprint(input: string): string | undefined {
  const hex = input.replaceAll(':', '').toLowerCase();
  if (/^[0-9a-f]{64}$/.test(hex)) return Buffer.from(hex, 'hex').toString('base64url');
  return /^[A-Za-z0-9_-]{43}$/.test(input) ? input : undefined;
}

export async function isCertificateBlocked(db: Db, certificate: X509Certificate): Promise<boolean> {
  const row = await db.selectFrom('blocked_credential').select('client_id').where('kind', '=', 'certificate').where('value', '=', certificateThumbprint(certificate)).executeTakeFirst();
  return row !== undefined;
}

/**
 * A request presenting a blocked client certificate (`incident:block-credential`) is refused before
 * anything reads it: client authentication, certificate-bound tokens, registration management. The
 * refusal is OAuth's invalid_client, which the TPP already handles as "fix your credentials".
 */
export function refuseBlockedCertificates(deps: { db: Db; presentedCertificate: ClientCertificateReader }): Middleware {
  return async (ctx, next) => {
    const presented = deps.presentedCertificate(ctx.req);
    if (presented && (await isCertificateBlocked(deps.db, presented.certificate))) {
      ctx.status = 401;
      ctx.set('Cache-Control', 'no-store');
      ctx.body = { error: 'invalid_client', error_description: 'the client certificate presented has been blocked by the bank' };
      return;
    }
    await next();
  };
}
