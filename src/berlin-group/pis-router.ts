import { Router } from '@koa/router';
import type { Consent } from '../consents/consent.ts';
import { createConsent, getConsentForClient, withdrawPendingConsentForClient } from '../consents/consent-service.ts';
import type { Db } from '../db/connect.ts';
import { readJsonBody } from '../http/json-body.ts';
import type { EidasState } from '../tpp/eidas-middleware.ts';
import { authorisationIn, mountAuthorisationRoutes, scaCapabilities } from './bg-authorisation-routes.ts';
import { BgError } from './bg-error.ts';
import { type BgHeaderState, readBgHeaders } from './bg-headers.ts';
import { chooseScaApproach, createdLinks, resourcePath, scaApproachHeader } from './bg-links.ts';
import type { PaymentConsent } from './bg-model.ts';
import {
  cancellationRefused,
  paymentConsentDraftOf,
  paymentInformationBody,
  paymentInitiatedBody,
  paymentStatusBody,
} from './bg-payment-mapping.ts';
import { PAYMENT_PRODUCTS, type PaymentProduct, parsePaymentRequest, paymentProductOf } from './bg-payment-request.ts';
import { type BgRouterDeps, eidasRoutes } from './eidas-routes.ts';

/**
 * The Berlin Group payment initiation resource (NextGenPSD2 v1.3.x, payment-service `payments`, the products
 * sepa-credit-transfers and instant-sepa-credit-transfers): initiatePayment, getPaymentInformation,
 * getPaymentInitiationStatus, cancelPayment, mounted from their rows behind the eIDAS guard (the TPP's QWAC
 * with the PSP_PI role). A payment is a domestic_payment consent of the one model (standard berlin_group,
 * its terms in a SEPA scheme), so the consent page, the dashboard, introspection, the audit trail, events,
 * the incident commands and the bank API's consumption treat it as they treat a UK single payment.
 *
 * A payment is the TPP's own: another TPP's, a consent of another kind or standard, or an id that does not
 * exist is RESOURCE_UNKNOWN (403, a resource other than an account named in the path); a product the bank
 * does not offer is PRODUCT_UNKNOWN (404), and an offered product that is not the payment's is
 * PRODUCT_INVALID (403, as adorsys/xs2a's PRODUCT_INVALID_FOR_PAYMENT).
 *
 * SCA: the OAuth2 SCA approach (REDIRECT, `_links.scaOAuth`), as for AIS consents: the customer authorises
 * the payment in Assent's FAPI flow asking scope `PIS:<paymentId>`, with TPP-Redirect-URI as redirect_uri.
 */

type PisState = EidasState & BgHeaderState;

const paymentUnknown = () => BgError.of('RESOURCE_UNKNOWN', 'no such payment of this TPP', { addressed: 'resource', path: 'paymentId' });

/** A consent that is a Berlin Group payment initiation. */
const isBgPayment = (consent: Consent): consent is Consent & PaymentConsent =>
  consent.standard === 'berlin_group' && consent.type === 'domestic_payment' && consent.payment !== null;

/** The TPP's own payment of the path's product: RESOURCE_UNKNOWN for any other, PRODUCT_INVALID when the product is not its. */
async function ownPayment(
  db: Db,
  clientId: string,
  product: PaymentProduct,
  paymentId: string | undefined,
): Promise<Consent & PaymentConsent> {
  const consent = await getConsentForClient(db, clientId, paymentId ?? '');
  if (!consent || !isBgPayment(consent)) throw paymentUnknown();
  if (consent.payment.scheme !== PAYMENT_PRODUCTS[product])
    throw BgError.of('PRODUCT_INVALID', `this payment is not one of ${product}`, { path: 'payment-product' });
  return consent;
}

/**
 * The file's initiatePayment takes PSU-IP-Address as mandatory (PSU-IP-Address_mandatory): a payment is
 * initiated with the customer present, and the bank's fraud checks need the address.
 */
async function requirePsuIpAddress(ctx: { state: BgHeaderState }, next: () => Promise<unknown>) {
  if (ctx.state.bgHeaders.psuIpAddress === null)
    throw BgError.of('FORMAT_ERROR', 'PSU-IP-Address is required to initiate a payment', { path: 'PSU-IP-Address' });
  await next();
}

export function pisRouter(deps: BgRouterDeps): Router {
  const { db, issuer } = deps;
  // REDIRECT only: the customer's device approves consents to read, not payments (yet).
  const sca = { ...deps, decoupled: undefined };
  const router = new Router();
  const routes = eidasRoutes<PisState>(router, deps.eidasTpp);

  routes.eidas('initiatePayment', readBgHeaders, requirePsuIpAddress, async (ctx) => {
    const headers = ctx.state.bgHeaders;
    const product = paymentProductOf(ctx.params.paymentProduct ?? '');
    const asked = parsePaymentRequest(product, await readJsonBody(ctx), deps.calendar.dateOf(new Date()));
    const clientId = ctx.state.eidasClientId;
    const approach = chooseScaApproach(headers, scaCapabilities(sca));
    const draft = paymentConsentDraftOf(product, asked, headers);
    const implicit = headers.tppExplicitAuthorisationPreferred ? undefined : await authorisationIn(sca, approach, headers, clientId);
    const { consent, authorisation } = await createConsent(db, { clientId, draft, ...(implicit && { authorisation: implicit.start }) });
    implicit?.afterCommit();
    const resource = { service: 'PIS', product, paymentId: consent.id } as const;
    const start = authorisation
      ? ({ explicit: false, approach, authorisationId: authorisation.id } as const)
      : ({ explicit: true } as const);
    ctx.status = 201;
    ctx.set({ ...scaApproachHeader(approach), Location: `${issuer}${resourcePath(resource)}` });
    ctx.body = paymentInitiatedBody(consent, createdLinks(resource, start, issuer));
  });

  routes.eidas('getPaymentInformation', readBgHeaders, async (ctx) => {
    const product = paymentProductOf(ctx.params.paymentProduct ?? '');
    ctx.body = paymentInformationBody(await ownPayment(db, ctx.state.eidasClientId, product, ctx.params.paymentId));
  });

  routes.eidas('getPaymentInitiationStatus', readBgHeaders, async (ctx) => {
    const product = paymentProductOf(ctx.params.paymentProduct ?? '');
    ctx.body = paymentStatusBody(await ownPayment(db, ctx.state.eidasClientId, product, ctx.params.paymentId));
  });

  // Withdrawn (Rejected, ended by the TPP: CANC) in one transaction with its audit event, only while the
  // customer has not authorised it: decided under the row lock, so a concurrent authorisation wins cleanly.
  routes.eidas('cancelPayment', readBgHeaders, async (ctx) => {
    const product = paymentProductOf(ctx.params.paymentProduct ?? '');
    const payment = await ownPayment(db, ctx.state.eidasClientId, product, ctx.params.paymentId);
    await withdrawPendingConsentForClient(db, { clientId: ctx.state.eidasClientId, consentId: payment.id, refuse: cancellationRefused });
    ctx.status = 204;
  });

  mountAuthorisationRoutes(
    routes,
    sca,
    { start: 'startPaymentAuthorisation', list: 'getPaymentInitiationAuthorisation', scaStatus: 'getPaymentInitiationScaStatus' },
    async (ctx) => {
      const product = paymentProductOf(ctx.params.paymentProduct ?? '');
      const payment = await ownPayment(db, ctx.state.eidasClientId, product, ctx.params.paymentId);
      return { consent: payment, resource: { service: 'PIS', product, paymentId: payment.id } };
    },
  );

  return router;
}
