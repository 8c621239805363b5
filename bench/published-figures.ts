/**
 * Figures others published that results.md sets Assent's measurements against, each with where it is
 * written (quoted, not measured here). Looked up 2026-12-08.
 */

/** Keycloak's sizing guide: CPU per request rate, measured with a new TLS connection per request. */
export const KEYCLOAK_SIZING = {
  version: 'Red Hat build of Keycloak 26.0',
  url: 'https://docs.redhat.com/en/documentation/red_hat_build_of_keycloak/26.0/html/high_availability_guide/concepts-memory-and-cpu-sizing-',
  clientCredentialsPerVcpu: 200,
  clientCredentialsWording:
    '"For each 200 client credential grants per second, 1 vCPU to the cluster (tested with up to 2000 per second). Most CPU time goes into creating new TLS connections, as each client runs only a single request."',
  setup:
    'reference architecture of the same chapter: OpenShift 4.16 on AWS (ROSA) with m5.2xlarge workers, 3 Keycloak Pods, the reverse proxy in passthrough mode so that TLS ends in the Pod, Aurora PostgreSQL (multi-AZ) whose CPU is not in the per-vCPU figure',
  later:
    'the unversioned guide on keycloak.org (https://www.keycloak.org/high-availability/single-cluster/concepts-memory-and-cpu-sizing) now says 120 client credential grants per second per vCPU, with the same remark on TLS connections',
  /** Keycloak publishes no per-vCPU figure for token introspection. */
  introspectionPerVcpu: undefined as number | undefined,
} as const;

/** The Australian Consumer Data Standards' non-functional requirements for data holders. */
export const CDR_NFRS = {
  trafficUrl: 'https://consumerdatastandardsaustralia.github.io/standards/#traffic-thresholds',
  performanceUrl: 'https://consumerdatastandardsaustralia.github.io/standards/#performance-requirements',
  /** Secure traffic (Customer Present and Unattended): peak TPS across all consumers, by active authorisations. */
  secureTrafficTiers: [
    { authorisations: '0 to 10,000', peakTps: 150 },
    { authorisations: '10,001 to 20,000', peakTps: 200 },
    { authorisations: '20,001 to 30,000', peakTps: 250 },
    { authorisations: '30,001 to 40,000', peakTps: 300 },
    { authorisations: '40,001 to 50,000', peakTps: 350 },
    { authorisations: '50,001 to 60,000', peakTps: 400 },
    { authorisations: 'more than 60,000', peakTps: 450 },
  ],
  trafficWording:
    '"For secure traffic (both Customer Present and Unattended) the following traffic thresholds will apply: For Data Holders with 0 to 10,000 active authorisations, 150 peak TPS total across all consumers. [...] For Data Holders with more than 60,000 active authorisations, 450 peak TPS total across all consumers."',
  highPriorityMs: 1000,
  performanceWording:
    '"95% of calls per hour responded to within a nominated threshold": 1000 ms for the High Priority tier, which holds "All InfoSec end points including Dynamic Client Registration" (the token, introspection and PAR endpoints among them)',
} as const;
