/**
 * The OpenID Foundation's conformance suite, module by module, as tests. A conformance test is named after
 * the suite's module and the variant it runs in, `<module> [<key>=<value>, ...]`, so the test reporter
 * (conformance-reporter.ts) can collect it and `test/run.ts` can build docs/conformance.md from the run:
 * `test(conformanceTestName(module, variant), async () => ...)`, called in the test file itself, since the
 * reporter names the file where `test` was called.
 */

/** The suite's test plans this server is held to (the plan names are the suite's own). */
export type PlanId =
  'fapi2-security-profile-final-test-plan' | 'fapi2-message-signing-final-test-plan' | 'fapi-ciba-id1-test-plan' | 'grant-management';

/** One variant of a plan, in the suite's keys and values (client_auth_type=mtls, sender_constrain=dpop, ...). */
export type Variant = Readonly<Record<string, string>>;

/** A module of a plan: the variants it runs in here, or why it does not apply to Assent. */
export type CatalogueModule =
  | { readonly plan: PlanId; readonly module: string; readonly variants: readonly Variant[] }
  | { readonly plan: PlanId; readonly module: string; readonly notApplicable: string };

export function variantLabel(variant: Variant): string {
  return Object.entries(variant)
    .map(([key, value]) => `${key}=${value}`)
    .join(', ');
}

export function conformanceTestName(module: string, variant: Variant): string {
  return `${module} [${variantLabel(variant)}]`;
}

/** A test's name read back: the module and variant label it was named after, or undefined for any other test. */
export function conformanceNameParts(name: string): { module: string; variant: string } | undefined {
  // The suite's names are lower case but for algorithm names (`...-is-RS256-fails`).
  const match = /^([a-z0-9]+(?:-[A-Za-z0-9]+)+) \[([^\]]*)\]$/.exec(name);
  return match ? { module: match[1]!, variant: match[2]! } : undefined;
}
