import type { Provider } from 'oidc-provider';
import type { ConsentDraft, ReadScope } from '../consents/consent.ts';
import { accountChoices } from '../consents/account-choices.ts';
import { authoriseConsent, consentsOfCustomer, createConsent, revokeConsent } from '../consents/consent-service.ts';
import { postgresAccountDirectory } from '../customers/account-directory.ts';
import { findCustomerByUsername } from '../customers/customer-repository.ts';
import type { Db } from '../db/connect.ts';
import { DETAILS_TYPE_OF } from '../protocol/consent-types.ts';
import { SCOPE_OF } from '../protocol/scopes.ts';
import { DEMO_CLIENT_ID, DEMO_CUSTOMER } from './seed.ts';

/**
 * Dev-mode demo consents, so that the consent dashboard has something to show on first start: the
 * demo TPP may read two accounts, may make one payment, and once had a consent the customer revoked.
 * They go through the consent service like real ones (grant, audit trail), only without a TPP flow.
 */

const days = (n: number) => new Date(Date.now() + n * 86_400_000);

/** What every demo consent is: a UK OB v3.1 consent, read again and again, without a daily limit. */
const UK = { standard: 'uk_ob_v3', recurring: true, frequencyPerDay: null, combinedService: false, redirectUri: null } as const;

const reading = (...scopes: ReadScope[]) => scopes.map((scope) => ({ scope, accounts: null }));

const DRAFTS: ConsentDraft[] = [
  {
    ...UK,
    type: 'account_access',
    reads: reading('accounts.detail', 'balances', 'transactions.detail', 'transactions.credits', 'transactions.debits'),
    expiresAt: days(90),
    transactionFrom: days(-365),
    transactionTo: null,
    payment: null,
    debtorAccount: null,
    risk: {},
    vrp: null,
  },
  {
    ...UK,
    type: 'domestic_payment',
    reads: [],
    expiresAt: null,
    transactionFrom: null,
    transactionTo: null,
    payment: {
      scheme: 'uk_domestic',
      amount: '42.50',
      currency: 'GBP',
      creditorAccount: { scheme: 'sort_code_account', identification: '08080021325698' },
      creditorName: 'Green Energy Ltd',
      reference: 'INVOICE 1187',
      instructionIdentification: 'DEMO-0001',
      endToEndIdentification: 'DEMO-E2E-0001',
      creditorAgent: null,
      requestedExecutionDate: null,
    },
    debtorAccount: null,
    risk: {},
    vrp: null,
  },
  {
    ...UK,
    type: 'account_access',
    reads: reading('accounts.basic', 'balances'),
    expiresAt: days(30),
    transactionFrom: null,
    transactionTo: null,
    payment: null,
    debtorAccount: null,
    risk: {},
    vrp: null,
  },
];

/** Once per demo customer: a later start finds the consents (or what the customer did with them) and adds none. */
export async function seedDemoConsents(db: Db, provider: Provider): Promise<void> {
  const customer = await findCustomerByUsername(db, DEMO_CUSTOMER);
  if (!customer || (await consentsOfCustomer(db, customer.id)).length > 0) return;
  const customerId = customer.id;
  const clientId = DEMO_CLIENT_ID;
  const directory = postgresAccountDirectory(db);
  const accounts = await directory.listForCustomer(customerId);
  for (const [index, draft] of DRAFTS.entries()) {
    const { consent } = await createConsent(db, { clientId, draft });
    const grant = new provider.Grant({ accountId: customerId, clientId });
    grant.addOIDCScope(`openid ${SCOPE_OF[draft.type]}`);
    grant.addRar({ type: DETAILS_TYPE_OF[draft.type], consent_id: consent.id });
    const grantId = await grant.save();
    // As the consent page would offer them: the payment from an account that can make it (in GBP).
    const choices = accountChoices(consent, accounts);
    const accountIds = draft.type === 'account_access' ? choices.slice(0, 2).map((account) => account.id) : [choices[0]!.id];
    await authoriseConsent(db, directory, { consentId: consent.id, clientId, customerId, accountIds, grantId });
    if (index === DRAFTS.length - 1) await revokeConsent(db, { consentId: consent.id, actor: { kind: 'customer', id: customerId } });
  }
}
