import { z } from 'zod';
import { listSigningKeys, rotateSigningKeys } from '../../oidc/key-rotation.ts';
import { AdminError, operation } from '../admin-operation.ts';

const list = operation({
  name: 'keys:list',
  summary: 'lists the signing keys: which signs, which are published for verification, which retired',
  method: 'GET',
  path: '/keys',
  input: z.object({}),
  async run({ db, config }) {
    if (config.signingKeysFile)
      throw new AdminError('conflict', `signing keys come from SIGNING_KEYS_FILE (${config.signingKeysFile}), not the database`);
    return listSigningKeys(db);
  },
});

const rotate = operation({
  name: 'keys:rotate',
  summary: 'publishes new signing keys, active after KEY_ACTIVATION_DELAY; retires the current ones after their tokens expire',
  method: 'POST',
  path: '/keys/rotation',
  input: z.object({}),
  async run({ db, config, operator }) {
    if (config.signingKeysFile)
      throw new AdminError('conflict', 'signing keys come from SIGNING_KEYS_FILE: rotate them by editing that file');
    // Superseded keys still verify what they signed: ID tokens live as long as access tokens, and a
    // process may keep signing with them for up to one refresh interval after the activation time.
    return rotateSigningKeys(
      db,
      {
        activationDelaySeconds: config.keyRotation.activationDelaySeconds,
        retireAfterSeconds: config.ttl.accessToken + config.keyRotation.refreshIntervalSeconds,
      },
      operator.id,
    );
  },
});

export const keyOperations = [list, rotate];
