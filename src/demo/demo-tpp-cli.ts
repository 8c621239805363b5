import { loadConfig } from '../config.ts';
import { authorizationRequest, clientCredentialsToken, currentDpopNonce, dpopProof } from './demo-tpp.ts';
import { CONSENT_SCOPES } from '../protocol/scopes.ts';
import { orHalt, reachDevServer } from './dev-server.ts';

/**
 * `npm run demo-tpp -- token [scope]` prints a DPoP-bound access token of the demo TPP;
 * `npm run demo-tpp -- proof <METHOD> <URL> [token]` prints a DPoP proof for one request, with the server's current nonce;
 * `npm run demo-tpp -- authorize <ConsentId> [scope]` pushes an authorization request binding the consent
 * and prints the URL to open in a browser.
 */
const config = loadConfig();
if (!config.devMode) {
  console.error('demo-tpp works in dev mode only');
  process.exit(2);
}
const settings = { issuer: config.issuer ?? `https://localhost:${config.port}`, dataDir: config.dataDir };
const [command, ...args] = process.argv.slice(2);
// Each needs the server: a proof carries its current DPoP nonce.
if (command === 'token' || command === 'authorize' || command === 'proof') await orHalt(reachDevServer(settings));

if (command === 'token') {
  process.stdout.write(`${await clientCredentialsToken(settings, args[0] ?? CONSENT_SCOPES.join(' '))}\n`);
} else if (command === 'proof' && args[0] && args[1]) {
  process.stdout.write(`${await dpopProof(settings, args[0], args[1], args[2], await currentDpopNonce(settings))}\n`);
} else if (command === 'authorize' && args[0]) {
  const { url, codeVerifier, expiresIn } = await authorizationRequest(settings, args[0], args[1] ?? 'openid accounts');
  process.stdout.write(`${url}\n`);
  process.stderr.write(`Open it within ${expiresIn} seconds: the pushed request expires then, and the link works once.\n`);
  process.stderr.write(`PKCE code_verifier for redeeming the code: ${codeVerifier}\n`);
} else {
  console.error('usage: npm run demo-tpp -- token [scope] | proof <METHOD> <URL> [access token] | authorize <ConsentId> [scope]');
  process.exit(2);
}
