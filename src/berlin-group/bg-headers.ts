import { isIP } from 'node:net';
import { z } from 'zod';
import { BgError, bgMessage } from './bg-error.ts';
import { REQUEST_ID } from './bg-request-id.ts';

/**
 * The NextGenPSD2 request headers the Berlin Group routes read, checked once at the edge into a typed
 * object (NextGenPSD2 OpenAPI file v1.3.11, components/parameters): X-Request-ID (required, a UUID),
 * PSU-IP-Address (present: the customer is present, which is what frequencyPerDay does not count), PSU-ID,
 * TPP-Redirect-URI and TPP-Nok-Redirect-URI (https), and the TPP's preferences TPP-Redirect-Preferred,
 * TPP-Decoupled-Preferred and TPP-Explicit-Authorisation-Preferred (`type: boolean`: "true" or "false").
 * Every faulty header is one FORMAT_ERROR message whose path is the header's name.
 */

export interface BgHeaders {
  requestId: string;
  /** The customer's IP address as the TPP saw it: present means the customer is present. */
  psuIpAddress: string | null;
  psuId: string | null;
  tppRedirectUri: string | null;
  tppNokRedirectUri: string | null;
  /** null: the TPP said nothing, and the bank chooses. */
  tppRedirectPreferred: boolean | null;
  tppDecoupledPreferred: boolean | null;
  /** "false" or absent: no preference (the guidelines read both the same). */
  tppExplicitAuthorisationPreferred: boolean;
}

/** Header names as the guidelines spell them; Node hands them over lower-cased. */
const NAMES = {
  requestId: 'X-Request-ID',
  psuIpAddress: 'PSU-IP-Address',
  psuId: 'PSU-ID',
  tppRedirectUri: 'TPP-Redirect-URI',
  tppNokRedirectUri: 'TPP-Nok-Redirect-URI',
  tppRedirectPreferred: 'TPP-Redirect-Preferred',
  tppDecoupledPreferred: 'TPP-Decoupled-Preferred',
  tppExplicitAuthorisationPreferred: 'TPP-Explicit-Authorisation-Preferred',
} as const satisfies Record<keyof BgHeaders, string>;

/** A redirect URI's longest accepted form. */
const MAX_URI = 2048;
/** PSU-ID is the customer's login name at the bank: no more than this, no control characters. */
const MAX_PSU_ID = 140;

const present = (name: string) =>
  z
    .string({ error: (issue) => (issue.input === undefined ? `${name} is missing` : `${name} must be one value`) })
    .refine((value) => value.trim().length > 0, `${name} must not be blank`);

const optional = <T extends z.ZodType<unknown, string>>(schema: T) => schema.optional().transform((value) => value ?? null);

const httpsUri = (name: string) =>
  present(name)
    .refine((value) => value.length <= MAX_URI, `${name} must be at most ${MAX_URI} characters`)
    .refine((value) => {
      const url = URL.canParse(value) ? new URL(value) : undefined;
      return url?.protocol === 'https:' && url.username === '' && url.password === '' && url.hash === '' && !value.includes('#');
    }, `${name} must be an absolute https URI without credentials or fragment`);

const preference = (name: string) =>
  present(name)
    .refine((value) => value === 'true' || value === 'false', `${name} must be "true" or "false"`)
    .transform((value) => value === 'true');

const SCHEMA = z.object({
  'x-request-id': present(NAMES.requestId).refine((value) => REQUEST_ID.test(value), `${NAMES.requestId} must be a UUID`),
  'psu-ip-address': optional(
    present(NAMES.psuIpAddress).refine((value) => isIP(value) !== 0, `${NAMES.psuIpAddress} must be an IPv4 or IPv6 address`),
  ),
  'psu-id': optional(
    present(NAMES.psuId)
      .refine((value) => value.length <= MAX_PSU_ID, `${NAMES.psuId} must be at most ${MAX_PSU_ID} characters`)
      // oxlint-disable-next-line no-control-regex -- control characters are what is refused
      .refine((value) => !/[\u0000-\u001f\u007f]/.test(value), `${NAMES.psuId} must not contain control characters`),
  ),
  'tpp-redirect-uri': optional(httpsUri(NAMES.tppRedirectUri)),
  'tpp-nok-redirect-uri': optional(httpsUri(NAMES.tppNokRedirectUri)),
  'tpp-redirect-preferred': optional(preference(NAMES.tppRedirectPreferred)),
  'tpp-decoupled-preferred': optional(preference(NAMES.tppDecoupledPreferred)),
  'tpp-explicit-authorisation-preferred': optional(preference(NAMES.tppExplicitAuthorisationPreferred)),
});

type HeaderKey = keyof z.input<typeof SCHEMA>;
const HEADER_NAMES: Record<HeaderKey, string> = {
  'x-request-id': NAMES.requestId,
  'psu-ip-address': NAMES.psuIpAddress,
  'psu-id': NAMES.psuId,
  'tpp-redirect-uri': NAMES.tppRedirectUri,
  'tpp-nok-redirect-uri': NAMES.tppNokRedirectUri,
  'tpp-redirect-preferred': NAMES.tppRedirectPreferred,
  'tpp-decoupled-preferred': NAMES.tppDecoupledPreferred,
  'tpp-explicit-authorisation-preferred': NAMES.tppExplicitAuthorisationPreferred,
};

/**
 * The request's NextGenPSD2 headers, or a FORMAT_ERROR (400) naming each faulty one. `headers` is Node's
 * (lower-case names; a repeated header arrives joined with ", " and so fails its format).
 */
export function parseBgHeaders(headers: Record<string, string | string[] | undefined>): BgHeaders {
  const snapshot = Object.fromEntries(Object.keys(HEADER_NAMES).map((key) => [key, headers[key]]));
  const parsed = SCHEMA.safeParse(snapshot);
  if (!parsed.success) {
    const messages = parsed.error.issues.map((issue) => {
      const key = issue.path[0] as HeaderKey;
      return bgMessage('FORMAT_ERROR', issue.message, HEADER_NAMES[key]);
    });
    throw new BgError(400, messages);
  }
  const value = parsed.data;
  return {
    requestId: value['x-request-id'],
    psuIpAddress: value['psu-ip-address'],
    psuId: value['psu-id'],
    tppRedirectUri: value['tpp-redirect-uri'],
    tppNokRedirectUri: value['tpp-nok-redirect-uri'],
    tppRedirectPreferred: value['tpp-redirect-preferred'],
    tppDecoupledPreferred: value['tpp-decoupled-preferred'],
    tppExplicitAuthorisationPreferred: value['tpp-explicit-authorisation-preferred'] ?? false,
  };
}

/** What the header step leaves for the handlers. */
export interface BgHeaderState {
  bgHeaders: BgHeaders;
}

/** The step every Berlin Group route runs first: the headers, checked, on ctx.state.bgHeaders. */
export async function readBgHeaders(
  ctx: { headers: Record<string, string | string[] | undefined>; state: BgHeaderState },
  next: () => Promise<unknown>,
) {
  ctx.state.bgHeaders = parseBgHeaders(ctx.headers);
  await next();
}
