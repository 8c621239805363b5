import { describe, test } from 'node:test';
import { conformanceTestName } from '../support/conformance.ts';
import { fapi2Flows, type Fapi2Variant } from '../support/fapi2-flow.ts';
import { useAssent } from '../support/fixture.ts';
import { FAPI2_MODULES } from './fapi2-modules.ts';
import { SECURITY_PROFILE_PLAN } from './plans/fapi2-security-profile.ts';

/** The suite's fapi2-security-profile-final-test-plan, module by module, in the variants of its catalogue entry. */
describe('fapi2-security-profile-final-test-plan', () => {
  // The clock moves (an expired code, an expired request_uri): every module after those runs later.
  const assent = useAssent({}, { movableClock: true });
  const flowFor = fapi2Flows(assent);

  for (const entry of SECURITY_PROFILE_PLAN) {
    if (!('variants' in entry)) continue;
    for (const variant of entry.variants)
      test(conformanceTestName(entry.module, variant), async () => FAPI2_MODULES[entry.module]!(await flowFor(variant as Fapi2Variant)));
  }
});
