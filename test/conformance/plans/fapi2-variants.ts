import type { Fapi2Variant } from '../../support/fapi2-flow.ts';

/**
 * The variants the two FAPI 2.0 plans run in here, always with the UK Open Banking profile (intents created
 * on the consent API and bound by openbanking_intent_id, or by authorization_details under rar) and OpenID
 * Connect. The full product is 8 variants for the security profile (the plan fixes unsigned requests and
 * plain responses) and 16 for message signing: too many full flows for CI, so a module runs in every
 * variant only where all of them change what it checks (the happy flow of the security profile), and else
 * in a covering set: every pair of values of the parameters it depends on meets in some variant (COVER),
 * or in the values it is defined for (DPOP, PRIVATE_KEY_JWT, RESPONSE), or once (BASE) when nothing it
 * checks depends on the variant. The suite names no certification profile for UK + JARM ("JARM is not
 * used in UK"), but Assent offers JARM to UK clients as well, so message signing runs it there too.
 */

type Auth = Fapi2Variant['client_auth_type'];
type Sender = Fapi2Variant['sender_constrain'];
type RequestType = Fapi2Variant['authorization_request_type'];
type Mode = Fapi2Variant['fapi_response_mode'];

function variant(auth: Auth, sender: Sender, type: RequestType, method: Fapi2Variant['fapi_request_method'], mode: Mode): Fapi2Variant {
  return {
    fapi_profile: 'openbanking_uk',
    client_auth_type: auth,
    sender_constrain: sender,
    authorization_request_type: type,
    fapi_request_method: method,
    fapi_response_mode: mode,
    openid: 'openid_connect',
  };
}

const sp = (auth: Auth, sender: Sender, type: RequestType) => variant(auth, sender, type, 'unsigned', 'plain_response');
const ms = (auth: Auth, sender: Sender, type: RequestType, mode: Mode) => variant(auth, sender, type, 'signed_non_repudiation', mode);

/** Security profile: unsigned requests and plain responses (the plan's baseline), three free parameters. */
export const SP = {
  ALL: (['private_key_jwt', 'mtls'] as const).flatMap((auth) =>
    (['dpop', 'mtls'] as const).flatMap((sender) => (['simple', 'rar'] as const).map((type) => sp(auth, sender, type))),
  ),
  /** Every pair of values of client authentication, sender constraint and request type meets once. */
  COVER: [
    sp('private_key_jwt', 'dpop', 'simple'),
    sp('private_key_jwt', 'mtls', 'rar'),
    sp('mtls', 'dpop', 'rar'),
    sp('mtls', 'mtls', 'simple'),
  ],
  BASE: [sp('private_key_jwt', 'dpop', 'simple')],
  /** Both client authentications and request types, under DPoP. */
  DPOP: [sp('private_key_jwt', 'dpop', 'simple'), sp('mtls', 'dpop', 'rar')],
  /** Both sender constraints and request types, with private_key_jwt. */
  PRIVATE_KEY_JWT: [sp('private_key_jwt', 'dpop', 'simple'), sp('private_key_jwt', 'mtls', 'rar')],
} as const;

/** Message signing: signed request objects, four free parameters. */
export const MS = {
  /** Every pair of values of authentication, sender constraint, response mode and request type meets once. */
  COVER: [
    ms('private_key_jwt', 'dpop', 'simple', 'plain_response'),
    ms('private_key_jwt', 'mtls', 'rar', 'jarm'),
    ms('mtls', 'dpop', 'rar', 'jarm'),
    ms('mtls', 'mtls', 'rar', 'plain_response'),
    ms('mtls', 'mtls', 'simple', 'jarm'),
  ],
  BASE: [ms('private_key_jwt', 'dpop', 'simple', 'plain_response')],
  /** Plain and JARM responses, for modules whose outcome is the authorization response. */
  RESPONSE: [ms('private_key_jwt', 'dpop', 'simple', 'plain_response'), ms('mtls', 'mtls', 'simple', 'jarm')],
  DPOP: [ms('private_key_jwt', 'dpop', 'simple', 'plain_response'), ms('mtls', 'dpop', 'rar', 'jarm')],
  PRIVATE_KEY_JWT: [ms('private_key_jwt', 'dpop', 'simple', 'plain_response'), ms('private_key_jwt', 'mtls', 'rar', 'jarm')],
} as const;
