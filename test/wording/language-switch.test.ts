import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { fetch } from 'undici';
import { type TestAssent, startTestAssent, tlsAgent } from '../support/assent.ts';

let assent: TestAssent;
before(async () => {
  assent = await startTestAssent();
});
after(async () => {
  await assent?.stop();
});

test("the language switch on a page refusing a hostile unknown path stays on the bank's site (no //host link)", async () => {
  const response = await fetch(`https://localhost:${assent.port}//evil.example/x?a=%00`, { dispatcher: tlsAgent(assent.ca.certPem) });
  assert.equal(response.status, 400, 'refused at the edge with the page');
  const links = [...(await response.text()).matchAll(/href="([^"]*lang=[^"]*)"/g)].map((match) => match[1]!);
  assert.ok(links.length > 0, 'the page offers the language switch');
  for (const link of links) assert.match(link, /^\/(?![/\\])/, link);
});
