import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { callRegistration, dpopClientMetadata, issueSsa } from '../support/onboarding.ts';
import { useAssent } from '../support/fixture.ts';

describe("first-party clients are the bank's own: no TPP can make itself one", () => {
  const assent = useAssent();

  for (const kind of ['first_party', 'resource_server']) {
    test(`dynamic registration ignores client_kind ${kind}: the client registers as a TPP`, async () => {
      const kit = await issueSsa(assent);
      const registered = await callRegistration(assent, kit.agent, { json: dpopClientMetadata(kit, { client_kind: kind }) });
      assert.equal(registered.status, 201, JSON.stringify(registered.body));
      assert.equal(registered.body.client_kind, undefined);
      const stored = await assent.db
        .selectFrom('oidc_model')
        .select('payload')
        .where('model', '=', 'Client')
        .where('id', '=', String(registered.body.client_id))
        .executeTakeFirstOrThrow();
      assert.equal(stored.payload.client_kind, undefined, 'a TPP cannot skip the consent screen');
    });
  }
});
