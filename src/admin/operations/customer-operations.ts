import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { isIsoCurrency } from '../../protocol/iso-currencies.ts';
import {
  closeCustomerAccount,
  type CustomerSummary,
  customerDetail,
  listCustomers,
  lookUpCustomer,
  openCustomerAccount,
  setCustomerDisabled,
  unlockCustomer,
} from '../../customers/customer-administration.ts';
import { createCustomer, enrolTotp, findCustomer } from '../../customers/customer-service.ts';
import { loadTotpKey } from '../../customers/totp-key.ts';
import type { Db } from '../../db/connect.ts';
import { auditHistory } from '../../audit/audit-trail.ts';
import { actorOf, AdminError, type OperationContext, operation, reasonField } from '../admin-operation.ts';

const customerRef = z.string().min(1).max(200).describe('customer id or username');
const reason = reasonField;

async function customerOrFail(db: Db, ref: string): Promise<CustomerSummary> {
  const customer = await lookUpCustomer(db, ref);
  if (!customer) throw new AdminError('not_found', `no customer ${ref}`);
  return customer;
}

function totpKeyOf({ db, config }: OperationContext) {
  return loadTotpKey(db, { devMode: config.devMode, configured: config.sca.totpEncryptionKey });
}

/** Postgres (and PGlite) report a unique violation as 23505: the username was taken in a race. */
const isUniqueViolation = (error: unknown) => (error as { code?: string }).code === '23505';

const create = operation({
  name: 'customer:create',
  summary: 'creates a customer with a generated password and an authenticator (otpauth URI), both shown once',
  method: 'POST',
  path: '/customers',
  input: z.object({ username: z.string().trim().min(1).max(200), name: z.string().trim().min(1).max(200) }),
  async run(context, { username, name }) {
    const taken = () => new AdminError('conflict', `username ${username} is taken`);
    if (await findCustomer(context.db, username)) throw taken();
    const password = randomBytes(12).toString('base64url');
    try {
      const { customer, totp } = await createCustomer(context.db, await totpKeyOf(context), {
        username,
        displayName: name,
        password,
        actor: actorOf(context.operator),
        authenticatorIssuer: context.config.branding.bankName,
      });
      return { id: customer.id, username: customer.username, password, otpauthUri: totp.otpauthUri };
    } catch (error) {
      if (isUniqueViolation(error)) throw taken();
      throw error;
    }
  },
});

const list = operation({
  name: 'customer:list',
  summary: 'lists customers, optionally those whose username starts with --username',
  method: 'GET',
  path: '/customers',
  input: z.object({ username: z.string().max(200).optional(), limit: z.coerce.number().int().min(1).max(1000).default(100) }),
  run: ({ db }, { username, limit }) => listCustomers(db, { ...(username && { usernamePrefix: username }), limit }),
});

const show = operation({
  name: 'customer:show',
  summary: 'shows a customer: accounts, lockout, status and audit history',
  method: 'GET',
  path: '/customers/:customer',
  input: z.object({ customer: customerRef }),
  positionals: ['customer'],
  async run({ db }, input) {
    const customer = await customerOrFail(db, input.customer);
    return { ...(await customerDetail(db, customer)), history: await auditHistory(db, 'customer', customer.id) };
  },
});

const disable = operation({
  name: 'customer:disable',
  summary: 'stops a customer signing in (TPP flows and dashboard); ends their dashboard sessions',
  method: 'POST',
  path: '/customers/:customer/disable',
  input: z.object({ customer: customerRef, reason }),
  positionals: ['customer'],
  async run({ db, operator }, input) {
    const customer = await customerOrFail(db, input.customer);
    if (customer.disabledAt) throw new AdminError('conflict', `customer ${customer.username} is already disabled`);
    await setCustomerDisabled(db, customer, { disabled: true, reason: input.reason, actor: actorOf(operator) });
    return customerDetail(db, (await lookUpCustomer(db, customer.id))!);
  },
});

const enable = operation({
  name: 'customer:enable',
  summary: 'lets a disabled customer sign in again',
  method: 'POST',
  path: '/customers/:customer/enable',
  input: z.object({ customer: customerRef, reason: reason.optional() }),
  positionals: ['customer'],
  async run({ db, operator }, input) {
    const customer = await customerOrFail(db, input.customer);
    if (!customer.disabledAt) throw new AdminError('conflict', `customer ${customer.username} is not disabled`);
    await setCustomerDisabled(db, customer, { disabled: false, reason: input.reason, actor: actorOf(operator) });
    return customerDetail(db, (await lookUpCustomer(db, customer.id))!);
  },
});

const unlock = operation({
  name: 'customer:unlock',
  summary: 'lifts a lockout after failed sign-ins',
  method: 'POST',
  path: '/customers/:customer/unlock',
  input: z.object({ customer: customerRef }),
  positionals: ['customer'],
  async run({ db, operator }, input) {
    const customer = await customerOrFail(db, input.customer);
    await unlockCustomer(db, customer, actorOf(operator));
    return customerDetail(db, customer);
  },
});

const resetAuthenticator = operation({
  name: 'customer:reset-authenticator',
  summary: 'enrols a new authenticator (the old one stops working); prints the otpauth URI once',
  method: 'POST',
  path: '/customers/:customer/reset-authenticator',
  input: z.object({ customer: customerRef }),
  positionals: ['customer'],
  async run(context, input) {
    const customer = await customerOrFail(context.db, input.customer);
    const { otpauthUri } = await enrolTotp(
      context.db,
      await totpKeyOf(context),
      customer,
      actorOf(context.operator),
      context.config.branding.bankName,
    );
    return { id: customer.id, username: customer.username, otpauthUri };
  },
});

const openAccount = operation({
  name: 'customer:open-account',
  summary: 'opens an account for a customer, so consents can name it',
  method: 'POST',
  path: '/customers/:customer/accounts',
  input: z.object({
    customer: customerRef,
    scheme: z.enum(['UK.OBIE.SortCodeAccountNumber', 'UK.OBIE.IBAN']).default('UK.OBIE.SortCodeAccountNumber'),
    identification: z
      .string()
      .trim()
      .regex(/^[A-Z0-9]{6,34}$/, 'letters and digits, 6 to 34'),
    name: z.string().trim().min(1).max(70),
    currency: z
      .string()
      .refine(isIsoCurrency, 'must be an ISO 4217 code such as GBP')
      .describe('an ISO 4217 code (GBP, EUR, ...)')
      .default('GBP'),
    type: z.enum(['Personal', 'Business']).default('Personal'),
    subtype: z.enum(['CurrentAccount', 'Savings', 'CreditCard']).default('CurrentAccount'),
  }),
  positionals: ['customer'],
  async run({ db, operator }, input) {
    const customer = await customerOrFail(db, input.customer);
    try {
      return await openCustomerAccount(
        db,
        {
          customerId: customer.id,
          schemeName: input.scheme,
          identification: input.identification,
          name: input.name,
          currency: input.currency,
          accountType: input.type,
          accountSubtype: input.subtype,
        },
        actorOf(operator),
      );
    } catch (error) {
      if (isUniqueViolation(error)) throw new AdminError('conflict', `account ${input.identification} already exists`);
      throw error;
    }
  },
});

const closeAccount = operation({
  name: 'customer:close-account',
  summary: "closes one of a customer's accounts",
  method: 'POST',
  path: '/customers/:customer/accounts/:account/close',
  input: z.object({ customer: customerRef, account: z.uuid() }),
  positionals: ['customer', 'account'],
  async run({ db, operator }, input) {
    const customer = await customerOrFail(db, input.customer);
    const closed = await closeCustomerAccount(db, customer, input.account, actorOf(operator));
    if (!closed) throw new AdminError('not_found', `customer ${customer.username} has no account ${input.account}`);
    return closed;
  },
});

export const customerOperations = [create, list, show, disable, enable, unlock, resetAuthenticator, openAccount, closeAccount];
