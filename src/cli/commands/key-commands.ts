import { rotateSigningKeys } from '../../oidc/key-rotation.ts';
import { type AdminCommand, UsageError } from '../admin-command.ts';

const rotateKeysCommand: AdminCommand = {
  name: 'keys:rotate',
  usage: 'keys:rotate',
  summary: 'publishes new signing keys, active after KEY_ACTIVATION_DELAY; retires the current ones after their tokens expire',
  async run({ config, db, out }) {
    if (config.signingKeysFile) throw new UsageError('signing keys come from SIGNING_KEYS_FILE: rotate them by editing that file');
    // Superseded keys still verify what they signed: ID tokens live as long as access tokens, and a
    // process may keep signing with them for up to one refresh interval after the activation time.
    const rotation = await rotateSigningKeys(db, {
      activationDelaySeconds: config.keyRotation.activationDelaySeconds,
      retireAfterSeconds: config.ttl.accessToken + config.keyRotation.refreshIntervalSeconds,
    });
    out(JSON.stringify(rotation, null, 2));
  },
};

export const keyCommands = [rotateKeysCommand];
