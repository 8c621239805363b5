import { currentOneTimeCode } from '../../customers/customer-service.ts';
import { loadTotpKey } from '../../customers/totp-key.ts';
import { currentTotpCode } from '../../customers/totp.ts';
import { connectDatabase } from '../../db/connect.ts';
import { lockEmbeddedDatabase } from '../../db/embedded-lock.ts';
import { demoTotpSecret } from '../../demo/seed.ts';
import { AdminError } from '../../admin/admin-operation.ts';
import { type LocalCommand, UsageError } from '../admin-command.ts';

export const currentCodeCommand: LocalCommand = {
  name: 'customer:otp',
  usage: 'customer:otp <username>',
  summary: "prints the code the customer's authenticator shows now",
  devOnly: true,
  async run({ config, out }, { positionals }) {
    const [username] = positionals;
    if (!username || positionals.length > 1) throw new UsageError('exactly one username is required');
    // The embedded demo customer's secret is in its credentials file: no need to open the server's PGlite.
    const demoSecret = config.databaseUrl === undefined ? await demoTotpSecret(config.dataDir, username) : undefined;
    if (demoSecret) {
      out(currentTotpCode(demoSecret));
      return;
    }
    const release = config.databaseUrl === undefined ? await lockEmbeddedDatabase(config.dataDir, 'admin-cli') : undefined;
    const db = await connectDatabase(config);
    try {
      const code = await currentOneTimeCode(
        db,
        await loadTotpKey(db, { devMode: config.devMode, configured: config.sca.totpEncryptionKey }),
        username,
      );
      if (!code) throw new AdminError('not_found', `no customer ${username} with an enrolled authenticator`);
      out(code);
    } finally {
      await db.destroy();
      await release?.();
    }
  },
};
