import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fetch } from 'undici';
import { tlsAgent } from '../support/assent.ts';
import { useAssent } from '../support/fixture.ts';

const assent = useAssent();

test("the language switch on a page refusing a hostile unknown path stays on the bank's site (no //host link)", async () => {
  const response = await fetch(`https://localhost:${assent.port}//evil.example/x?a=%00`, { dispatcher: tlsAgent(assent.ca.certPem) });
  assert.equal(response.status, 400, 'refused at the edge with the page');
  const links = [...(await response.text()).matchAll(/href="([^"]*lang=[^"]*)"/g)].map((match) => match[1]!);
  assert.ok(links.length > 0, 'the page offers the language switch');
  for (const link of links) assert.match(link, /^\/(?![/\\])/, link);
});
