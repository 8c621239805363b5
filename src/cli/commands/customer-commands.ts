import { randomBytes } from 'node:crypto';
import { createCustomer } from '../../customers/customer-service.ts';
import { type AdminCommand, UsageError } from '../admin-command.ts';

const createCustomerCommand: AdminCommand = {
  name: 'customer:create',
  usage: 'customer:create --username <username> --name <display name>',
  summary: 'creates a customer with a generated password, printed once',
  options: { username: { type: 'string' }, name: { type: 'string' } },
  async run({ db, out }, { values }) {
    const username = values.username;
    const name = values.name;
    if (typeof username !== 'string' || typeof name !== 'string') throw new UsageError('--username and --name are required');
    const password = randomBytes(12).toString('base64url');
    const customer = await createCustomer(db, { username, displayName: name, password });
    out(JSON.stringify({ id: customer.id, username: customer.username, password }, null, 2));
  },
};

export const customerCommands = [createCustomerCommand];
