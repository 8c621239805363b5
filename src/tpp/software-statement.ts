import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, errors as joseErrors, type JSONWebKeySet, jwtVerify } from 'jose';
import { z } from 'zod';
import { FAPI_ALGORITHMS } from '../protocol/algorithms.ts';
import { RegistrationError } from './registration-error.ts';
import { TPP_ROLES } from './roles.ts';
import { type DirectoryKeyring, DirectoryKeysUnavailable } from './trusted-directories.ts';

const CLOCK_TOLERANCE_SECONDS = 30;

const httpsUrl = z.url({ protocol: /^https$/ });

/** The claims Assent relies on, named as in the UK Open Banking directory's software statements. */
const softwareStatementClaims = z.object({
  iss: z.string().min(1),
  iat: z.number(),
  exp: z.number(),
  jti: z.string().min(1),
  software_id: z.string().min(1),
  org_id: z.string().min(1),
  org_name: z.string().min(1).optional(),
  software_client_name: z.string().min(1),
  software_logo_uri: httpsUrl.optional(),
  software_redirect_uris: z.array(z.string()).min(1),
  software_roles: z.array(z.enum(TPP_ROLES)).min(1),
  software_jwks: z.object({ keys: z.array(z.record(z.string(), z.unknown())).min(1) }).optional(),
  software_jwks_endpoint: httpsUrl.optional(),
});

export type SoftwareStatementClaims = z.infer<typeof softwareStatementClaims>;

export interface SoftwareStatement {
  jwt: string;
  claims: SoftwareStatementClaims;
}

function invalid(description: string, cause?: unknown) {
  return new RegistrationError('invalid_software_statement', description, cause === undefined ? undefined : { cause });
}

/** Header and issuer, read before the signature is checked only to pick the directory keys. */
function peek(jwt: string) {
  try {
    return { header: decodeProtectedHeader(jwt), payload: decodeJwt(jwt) };
  } catch (error) {
    throw invalid('software_statement is not a JWT', error);
  }
}

async function verifySignature(jwt: string, issuer: string, keyring: DirectoryKeyring) {
  const verify = async (jwks: JSONWebKeySet) =>
    jwtVerify(jwt, createLocalJWKSet(jwks), {
      issuer,
      algorithms: [...FAPI_ALGORITHMS],
      clockTolerance: CLOCK_TOLERANCE_SECONDS,
      requiredClaims: ['iat', 'exp', 'jti'],
    });
  try {
    try {
      return await verify(await keyring.keysFor(issuer));
    } catch (error) {
      // A directory may have rotated its keys since they were cached.
      if (!(error instanceof joseErrors.JWKSNoMatchingKey)) throw error;
      return await verify(await keyring.keysFor(issuer, { fresh: true }));
    }
  } catch (error) {
    if (error instanceof DirectoryKeysUnavailable) {
      throw new RegistrationError('temporarily_unavailable', 'the directory keys cannot be loaded right now', { cause: error });
    }
    if (error instanceof joseErrors.JWTExpired) throw invalid('software statement has expired', error);
    if (error instanceof joseErrors.JWTClaimValidationFailed) throw invalid(`software statement ${error.message}`, error);
    if (error instanceof joseErrors.JWKSNoMatchingKey)
      throw invalid('software statement is signed with a key the directory does not publish', error);
    throw invalid('software statement signature does not verify against the directory keys', error);
  }
}

/**
 * Verifies a software statement: a trusted directory signed it with a FAPI algorithm, it is current,
 * and it carries the claims registration needs. Replay of its jti is checked where it is recorded.
 */
export async function verifySoftwareStatement(jwt: unknown, keyring: DirectoryKeyring): Promise<SoftwareStatement> {
  if (typeof jwt !== 'string' || jwt === '') throw invalid('software_statement is required');
  const { header, payload } = peek(jwt);
  if (typeof header.alg !== 'string' || !(FAPI_ALGORITHMS as readonly string[]).includes(header.alg)) {
    throw invalid(`software statement must be signed with ${FAPI_ALGORITHMS.join(' or ')}`);
  }
  if (typeof payload.iss !== 'string') throw invalid('software statement has no iss');
  if (!keyring.isTrusted(payload.iss)) {
    throw new RegistrationError(
      'unapproved_software_statement',
      `software statement issuer ${JSON.stringify(payload.iss)} is not a trusted directory`,
    );
  }
  const verified = await verifySignature(jwt, payload.iss, keyring);
  const claims = softwareStatementClaims.safeParse(verified.payload);
  if (!claims.success) {
    const issue = claims.error.issues[0]!;
    throw invalid(`software statement claim ${issue.path.join('.')}: ${issue.message}`);
  }
  // jose checks iat only together with a maximum age; a statement from the future is not yet valid.
  if (claims.data.iat > Date.now() / 1000 + CLOCK_TOLERANCE_SECONDS) throw invalid('software statement iat is in the future');
  return { jwt, claims: claims.data };
}
