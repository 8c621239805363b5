import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { Deployment } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Service, ServiceAccount } from 'kubernetes-models/v1';
import { CONFIG_VARIABLES } from '../src/config.ts';
import { type RenderedManifest, renderChart } from './support/helm-template.ts';

/**
 * deploy/helm/assent rendered as `helm template` would (test/support/helm-template.ts, the chart's template
 * subset) and every manifest validated against the Kubernetes API's JSON schemas (kubernetes-models).
 */

const CHART = 'deploy/helm/assent';
const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  'apps/v1 Deployment': Deployment,
  'autoscaling/v2 HorizontalPodAutoscaler': HorizontalPodAutoscaler,
  'batch/v1 Job': Job,
  'networking.k8s.io/v1 NetworkPolicy': NetworkPolicy,
  'policy/v1 PodDisruptionBudget': PodDisruptionBudget,
  'v1 Service': Service,
  'v1 ServiceAccount': ServiceAccount,
};

/** A rendered manifest, read freely by the assertions once its schema has passed it. */
// oxlint-disable-next-line no-explicit-any -- the schemas check the shape; the assertions read what they expect
type Manifest = Record<string, any>;

const kindOf = (manifest: RenderedManifest) => `${manifest.object.apiVersion} ${manifest.object.kind}`;
const one = (manifests: RenderedManifest[], kind: string) => {
  const found = manifests.filter((manifest) => kindOf(manifest) === kind);
  assert.equal(found.length, 1, `one ${kind}`);
  return found[0]!.object as Manifest;
};

function validate(manifests: RenderedManifest[]) {
  for (const manifest of manifests) {
    const Model = MODELS[kindOf(manifest)];
    if (!Model) continue;
    assert.doesNotThrow(() => new Model(manifest.object as never).validate(), `${manifest.template}: ${kindOf(manifest)}`);
  }
}

describe('the Helm chart', () => {
  test('renders with its defaults into valid Kubernetes objects', () => {
    const manifests = renderChart(CHART);
    assert.deepEqual(manifests.map(kindOf).toSorted(), Object.keys(MODELS).toSorted());
    validate(manifests);

    const deployment = one(manifests, 'apps/v1 Deployment');
    assert.equal(deployment.spec.replicas, undefined, 'the autoscaler owns the replica count');
    const container = deployment.spec.template.spec.containers[0];
    const ports = Object.fromEntries(
      container.ports.map((port: { name: string; containerPort: number }) => [port.name, port.containerPort]),
    );
    assert.deepEqual(ports, { http: 8080, ops: 9090 });
    assert.deepEqual(
      [container.readinessProbe.httpGet, container.livenessProbe.httpGet],
      [
        { path: '/readyz', port: 'ops' },
        { path: '/healthz', port: 'ops' },
      ],
    );
    const env = Object.fromEntries(
      container.env.map((entry: { name: string; value?: string; valueFrom?: unknown }) => [entry.name, entry]),
    );
    for (const name of Object.keys(env)) assert.ok(CONFIG_VARIABLES.includes(name), `${name} is a variable Assent reads`);
    assert.equal(env.OPS_PORT.value, '9090');
    assert.equal(env.ADMIN_HOST.value, '127.0.0.1', 'the admin API stays on loopback');
    for (const secret of ['DATABASE_URL', 'TOTP_ENCRYPTION_KEY', 'ADMIN_TOKEN']) {
      assert.deepEqual(env[secret].valueFrom, { secretKeyRef: { name: 'assent-secrets', key: secret } }, `${secret} from the Secret`);
    }
    assert.equal(env.OTEL_EXPORTER_OTLP_ENDPOINT, undefined, 'tracing off by default');

    const policy = one(manifests, 'networking.k8s.io/v1 NetworkPolicy');
    const opened = policy.spec.ingress.flatMap((rule: { ports: { port: number }[] }) => rule.ports.map((port) => port.port));
    assert.deepEqual(opened.toSorted(), [8080, 9090]);
    assert.equal(policy.spec.ingress[1].from[0].namespaceSelector.matchLabels['kubernetes.io/metadata.name'], 'monitoring');
    const service = one(manifests, 'v1 Service');
    assert.deepEqual(
      service.spec.ports.map((port: { targetPort: string }) => port.targetPort),
      ['http'],
      'only the public port is a service',
    );

    const job = one(manifests, 'batch/v1 Job');
    assert.equal(job.metadata.annotations['helm.sh/hook'], 'pre-install,pre-upgrade');
    assert.deepEqual(job.spec.template.spec.containers[0].command, ['node', 'src/cli/migrate.ts']);
    assert.equal(one(manifests, 'policy/v1 PodDisruptionBudget').spec.minAvailable, 2);
    assert.equal(one(manifests, 'autoscaling/v2 HorizontalPodAutoscaler').spec.scaleTargetRef.name, deployment.metadata.name);
  });

  test('takes its secrets from an external secrets operator, tracing and extra settings by values', () => {
    const manifests = renderChart(CHART, {
      secrets: { source: 'externalSecrets' },
      autoscaling: { enabled: false },
      tracing: { endpoint: 'http://otel-collector.monitoring:4318' },
      env: { RATE_LIMIT_LOGIN: '20/60' },
    });
    validate(manifests);
    const external = one(manifests, 'external-secrets.io/v1 ExternalSecret');
    assert.equal(external.spec.target.name, 'assent-secrets');
    assert.equal(external.metadata.annotations['helm.sh/hook-weight'], '-10', 'before the migration Job');
    const deployment = one(manifests, 'apps/v1 Deployment');
    assert.equal(deployment.spec.replicas, 3);
    const env = deployment.spec.template.spec.containers[0].env as { name: string; value?: string }[];
    assert.equal(env.find((entry) => entry.name === 'OTEL_EXPORTER_OTLP_ENDPOINT')?.value, 'http://otel-collector.monitoring:4318');
    assert.equal(env.find((entry) => entry.name === 'RATE_LIMIT_LOGIN')?.value, '20/60');
    assert.equal(
      manifests.some((manifest) => kindOf(manifest) === 'autoscaling/v2 HorizontalPodAutoscaler'),
      false,
    );
  });

  test('refuses a template outside the subset it can render', () => {
    assert.throws(() => renderChart(CHART, { env: { LOG_LEVEL: { nested: true } } }), /without toYaml/);
  });

  test('the CloudNativePG example: a synchronous standby and a pooler on the read-write service', () => {
    const [cluster, pooler] = parseAllDocuments(readFileSync(`${CHART}/examples/cloudnative-pg.yaml`, 'utf8')).map(
      (document) => document.toJS() as Manifest,
    );
    assert.equal(cluster!.apiVersion, 'postgresql.cnpg.io/v1');
    assert.equal(cluster!.kind, 'Cluster');
    assert.ok(cluster!.spec.instances >= 2);
    assert.deepEqual(cluster!.spec.postgresql.synchronous, { method: 'any', number: 1, dataDurability: 'required' });
    assert.equal(pooler!.kind, 'Pooler');
    assert.equal(pooler!.spec.cluster.name, cluster!.metadata.name);
    assert.equal(pooler!.spec.type, 'rw');
  });
});
