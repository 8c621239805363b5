import type { Provider } from 'oidc-provider';
import type { z } from 'zod';
import type { Db } from '../db/connect.ts';
import type { GuardedRoutes } from '../http/declared-routes.ts';
import { ObError } from '../ob-api/ob-error.ts';
import { readJson } from '../ob-api/request-body.ts';
import { UK_STANDARDS } from '../protocol/consent-types.ts';
import {
  consentOperationIds,
  OB_V4_API_PREFIX,
  UK_OB_V4_CONSENT_TYPES,
  UK_OB_V4_DELETABLE,
  type UkObV4ConsentType,
  V4_CONSENT_API_PATHS,
} from '../protocol/routes.ts';
import { parseV4ConsentRequest, V4_REQUESTS } from '../uk-ob-v4/consent-request.ts';
import type { Consent } from '../consents/consent.ts';
import { ConsentNotFound } from '../consents/consent-errors.ts';
import { createConsent, getConsentForClient, withdrawConsentForClient } from '../consents/consent-service.ts';
import { idempotencyOf } from './consent-api-steps.ts';
import {
  accountAccessBodyV4,
  accountAccessResponseV4,
  domesticPaymentBodyV4,
  domesticPaymentResponseV4,
  fundsConfirmationBodyV4,
  fundsConfirmationResponseV4,
} from './ob-v4-responses.ts';
import { domesticVrpBodyV4, domesticVrpResponseV4 } from './vrp-v4-responses.ts';

/** A v4.0 consent resource: what it is called, what it accepts and answers (under OB_V4_API_PREFIX, at V4_CONSENT_API_PATHS). */
export interface V4ConsentResource {
  title: string;
  /** Whether the POST takes (and requires) an x-idempotency-key; without one v4.0 ignores any sent. */
  idempotencyRequired: boolean;
  request: z.ZodType;
  response: z.ZodType;
  body(consent: Consent, self: string): unknown;
}

/**
 * Account-access and funds-confirmation consents take no x-idempotency-key in v4.0: the endpoints tables
 * of account-access-consents.md and funds-confirmation-consent.md v4.0 say "Idempotency Key: No", and
 * the Read/Write Data API Profile v4.0 ("Idempotency"): "If an idempotency key is not required for an
 * API endpoint: The ASPSP **must** ignore the idempotency key if provided." (v3.1 honours one when
 * given.) POST /domestic-payment-consents says "Yes", so it requires one, as v3.1 does: the same key
 * and body return the first consent (201, "The ASPSP **must not** create a new resource for a POST
 * request if it is determined to be an idempotent request"); the same key with another body is
 * refused and changes nothing (docs/uk-ob-v4.md, "A repeated idempotency key"). POST
 * /domestic-vrp-consents says "Yes" too (domestic-vrp-consents.md v4.0), and works the same way.
 */
export const V4_CONSENT_RESOURCES: Record<UkObV4ConsentType, V4ConsentResource> = {
  account_access: {
    title: 'Account access consent',
    idempotencyRequired: false,
    request: V4_REQUESTS.account_access,
    response: accountAccessResponseV4,
    body: accountAccessBodyV4,
  },
  funds_confirmation: {
    title: 'Funds confirmation consent',
    idempotencyRequired: false,
    request: V4_REQUESTS.funds_confirmation,
    response: fundsConfirmationResponseV4,
    body: fundsConfirmationBodyV4,
  },
  domestic_payment: {
    title: 'Domestic payment consent',
    idempotencyRequired: true,
    request: V4_REQUESTS.domestic_payment,
    response: domesticPaymentResponseV4,
    body: domesticPaymentBodyV4,
  },
  domestic_vrp: {
    title: 'Domestic VRP consent',
    idempotencyRequired: true,
    request: V4_REQUESTS.domestic_vrp,
    response: domesticVrpResponseV4,
    body: domesticVrpBodyV4,
  },
};

/**
 * A consent of a UK version, either one, of the type the resource serves: the same ConsentId, grant and
 * tokens whichever version reads it (docs/uk-ob-v4.md). The v4.0 Account and Transaction API Profile
 * asks it one way: "An ASPSP **must** allow a Consent to be accessed in a newer version" and "**must**
 * support deleting a Consent from a previous version via a newer version" (the Confirmation of Funds
 * profile says the same of funds-confirmation consents); both tell the TPP not to go back ("An AISP
 * **must not** access a Consent on an older version, via the Id for a Consent created in a newer
 * version"), and v3.1 still answers one if it does, since these consents have the same fields in both.
 */
const ukConsentOf = (consent: Consent | undefined, type: UkObV4ConsentType) =>
  consent?.type === type && (UK_STANDARDS as readonly string[]).includes(consent.standard) ? consent : undefined;

/**
 * The TPP-facing UK OB v4.0 consent API: each route is v3.1's (consent-router.ts: interaction id ->
 * guard -> input -> service) with v4.0's request rules, body and error envelope (the router hands
 * obErrors uk-ob-v4's envelope for everything under OB_V4_API_PREFIX).
 */
export function obV4ConsentRoutes(routes: GuardedRoutes, deps: { provider: Provider; db: Db }) {
  const { provider, db } = deps;
  for (const type of UK_OB_V4_CONSENT_TYPES) {
    const resource = V4_CONSENT_RESOURCES[type];
    const ids = consentOperationIds(type, 'v4.0');
    const self = (consent: Consent) => `${provider.issuer}${OB_V4_API_PREFIX}${V4_CONSENT_API_PATHS[type]}/${consent.id}`;

    routes.client(ids.create, async (ctx) => {
      const body = await readJson(ctx);
      const idempotency = resource.idempotencyRequired ? idempotencyOf(ctx, body, true) : undefined;
      const parsed = parseV4ConsentRequest(type, body);
      if (!parsed.ok) throw new ObError(400, 'the consent request is not valid', parsed.problems);
      const { consent } = await createConsent(db, { clientId: ctx.state.caller.clientId, draft: parsed.draft, idempotency });
      ctx.status = 201;
      ctx.body = resource.body(consent, self(consent));
    });

    routes.client(ids.get, async (ctx) => {
      const consent = ukConsentOf(await getConsentForClient(db, ctx.state.caller.clientId, ctx.params.consentId ?? ''), type);
      if (!consent) throw new ConsentNotFound();
      ctx.body = resource.body(consent, self(consent));
    });

    routes.client(ids.delete, async (ctx) => {
      if (!UK_OB_V4_DELETABLE[type]) throw ObError.of(405, 'UK.OBIE.Field.Unexpected', `${resource.title}s cannot be deleted`);
      const { clientId } = ctx.state.caller;
      const consent = ukConsentOf(await getConsentForClient(db, clientId, ctx.params.consentId ?? ''), type);
      if (!consent) throw new ConsentNotFound();
      await withdrawConsentForClient(db, clientId, consent.id);
      ctx.status = 204;
    });
  }
}
