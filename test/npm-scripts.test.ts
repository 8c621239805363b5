import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { test } from 'node:test';

const run = promisify(execFile);
const root = fileURLToPath(new URL('..', import.meta.url));

/**
 * A newcomer runs `npm run ...` wherever their shell happens to be: npm finds the project above it, and
 * the script must not depend on the folder it was typed in (a script shell named by a path under $PWD
 * was not found from src/).
 */
for (const folder of ['', 'src/consents', 'test/support']) {
  test(`npm scripts run from ${folder || 'the repository root'}`, async () => {
    const { stdout } = await run('npm', ['run', '--silent', 'admin', '--', '--help'], { cwd: `${root}${folder}`, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '' } });
    assert.match(stdout, /^usage: npm run admin -- <command>/);
  });
}
