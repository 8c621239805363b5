import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { test } from 'node:test';
import { createMetrics } from '../../src/ops/metrics.ts';

test('the Grafana dashboard in deploy/ queries only series Assent exposes', async () => {
  const dashboard = JSON.parse(await readFile('deploy/grafana/assent-dashboard.json', 'utf8')) as {
    panels: { title: string; targets: { expr: string }[] }[];
  };
  const metrics = createMetrics({ poolStats: () => ({ total: 1, idle: 1, waiting: 0 }), consentCounts: async () => [] });
  const exposed = new Set([...(await metrics.registry.metrics()).matchAll(/^# TYPE (\w+) (\w+)$/gm)].map((match) => match[1]));
  for (const panel of dashboard.panels) {
    assert.ok(panel.targets.length > 0, `${panel.title} has a query`);
    for (const { expr } of panel.targets) {
      for (const [name] of expr.matchAll(/\bassent_\w+/g)) {
        assert.ok(
          exposed.has(name) || exposed.has(name.replace(/_(bucket|sum|count)$/, '')),
          `${panel.title}: ${name} is a series Assent exposes`,
        );
      }
    }
  }
});
