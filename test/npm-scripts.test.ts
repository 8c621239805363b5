import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { test } from 'node:test';
import { hermeticEnv } from './support/assent-process.ts';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

test('npm scripts run from any folder of the repository, as from its root', async () => {
  for (const folder of ['.', 'src/cli', 'test/support', 'docs']) {
    const { stdout, stderr } = await run('npm', ['run', '--silent', 'admin', '--', 'help'], {
      cwd: path.join(ROOT, folder),
      env: hermeticEnv({ LOG_LEVEL: 'silent', DATA_DIR: '/nonexistent-assent-data' }),
    });
    assert.match(stdout, /^usage: npm run admin -- <command>/, `from ${folder}`);
    assert.equal(stderr, '', `from ${folder}`);
  }
});
