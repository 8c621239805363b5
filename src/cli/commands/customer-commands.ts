import { randomBytes } from 'node:crypto';
import { createCustomer, currentOneTimeCode } from '../../customers/customer-service.ts';
import { loadTotpKey } from '../../customers/totp-key.ts';
import { currentTotpCode } from '../../customers/totp.ts';
import { connectDatabase } from '../../db/connect.ts';
import { demoTotpSecret } from '../../demo/seed.ts';
import { type AdminCommand, type AdminContext, UsageError } from '../admin-command.ts';

function totpKeyOf({ db, config }: AdminContext) {
  return loadTotpKey(db, { devMode: config.devMode, configured: config.sca.totpEncryptionKey });
}

const createCustomerCommand: AdminCommand = {
  name: 'customer:create',
  usage: 'customer:create --username <username> --name <display name>',
  summary: 'creates a customer with a generated password and an authenticator (otpauth URI), printed once',
  options: { username: { type: 'string' }, name: { type: 'string' } },
  async run(context, { values }) {
    const username = values.username;
    const name = values.name;
    if (typeof username !== 'string' || typeof name !== 'string') throw new UsageError('--username and --name are required');
    const password = randomBytes(12).toString('base64url');
    const { customer, totp } = await createCustomer(context.db, await totpKeyOf(context), { username, displayName: name, password, authenticatorIssuer: context.config.branding.bankName });
    context.out(JSON.stringify({ id: customer.id, username: customer.username, password, otpauthUri: totp.otpauthUri }, null, 2));
  },
};

const currentCodeCommand: AdminCommand = {
  name: 'customer:otp',
  usage: 'customer:otp <username>',
  summary: "prints the code the customer's authenticator shows now",
  devOnly: true,
  // It opens the database itself, and not at all for the embedded demo customer: PGlite belongs to the
  // running server, and this code is needed while signing in to that server.
  database: false,
  async run(context, { positionals }) {
    const [username] = positionals;
    if (!username || positionals.length > 1) throw new UsageError('exactly one username is required');
    const { config } = context;
    const demoSecret = config.databaseUrl === undefined ? await demoTotpSecret(config.dataDir, username) : undefined;
    if (demoSecret) {
      context.out(currentTotpCode(demoSecret));
      return;
    }
    const db = await connectDatabase(config);
    try {
      const code = await currentOneTimeCode(db, await totpKeyOf({ ...context, db }), username);
      if (!code) throw new UsageError(`no customer ${username} with an enrolled authenticator`);
      context.out(code);
    } finally {
      await db.destroy();
    }
  },
};

export const customerCommands = [createCustomerCommand, currentCodeCommand];
