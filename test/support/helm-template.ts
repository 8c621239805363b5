import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';

/**
 * Renders deploy/helm/assent the way `helm template` would, for the subset of Helm's template language the
 * chart keeps to (no helm binary can be installed here, and no npm library renders Helm's Go templates that
 * is maintained and used enough to trust). The subset, which deploy/helm/assent/README.md repeats:
 *
 * - `{{ .Values.a.b }}`, `.Release.Name`, `.Release.Namespace`, `.Chart.Name`, `.Chart.Version`, `.Chart.AppVersion`
 * - pipes into `quote`, and `toYaml X | nindent N`
 * - `if X`, `if not X`, `if eq X "literal"`, `else`, `end`
 * - `range $key, $value := .Values.map` (keys in sorted order, as Go's templates range over a map)
 * - `{{-` and `-}}` trimming whitespace, as in Go
 *
 * Anything else throws, so a template that steps outside the subset fails the test instead of rendering wrong.
 */

type Scope = {
  Values: unknown;
  Release: { Name: string; Namespace: string };
  Chart: Record<string, unknown>;
  vars: Record<string, unknown>;
};

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'output'; expression: string }
  | { kind: 'if'; condition: string; whenTrue: Node[]; whenFalse: Node[] }
  | { kind: 'range'; keyVar: string; valueVar: string; source: string; body: Node[] };

function tokenize(source: string): ({ text: string } | { action: string })[] {
  const tokens: ({ text: string } | { action: string })[] = [];
  let rest = source;
  while (rest.length > 0) {
    const open = rest.indexOf('{{');
    if (open === -1) {
      tokens.push({ text: rest });
      break;
    }
    let text = rest.slice(0, open);
    const close = rest.indexOf('}}', open);
    if (close === -1) throw new Error('unclosed {{');
    let action = rest.slice(open + 2, close);
    if (action.startsWith('-')) {
      text = text.replace(/\s+$/, '');
      action = action.slice(1);
    }
    let after = rest.slice(close + 2);
    if (action.endsWith('-')) {
      action = action.slice(0, -1);
      after = after.replace(/^\s+/, '');
    }
    tokens.push({ text }, { action: action.trim() });
    rest = after;
  }
  return tokens;
}

function parseNodes(
  tokens: ({ text: string } | { action: string })[],
  at: { i: number },
  stopAt: string[],
): { nodes: Node[]; stop: string } {
  const nodes: Node[] = [];
  while (at.i < tokens.length) {
    const token = tokens[at.i++]!;
    if ('text' in token) {
      nodes.push({ kind: 'text', text: token.text });
      continue;
    }
    const { action } = token;
    if (action.startsWith('/*')) continue;
    if (stopAt.includes(action)) return { nodes, stop: action };
    if (action.startsWith('if ')) {
      const whenTrue = parseNodes(tokens, at, ['else', 'end']);
      const whenFalse = whenTrue.stop === 'else' ? parseNodes(tokens, at, ['end']).nodes : [];
      nodes.push({ kind: 'if', condition: action.slice(3).trim(), whenTrue: whenTrue.nodes, whenFalse });
      continue;
    }
    const range = /^range \$(\w+), \$(\w+) := (\S+)$/.exec(action);
    if (range) {
      const body = parseNodes(tokens, at, ['end']);
      nodes.push({ kind: 'range', keyVar: range[1]!, valueVar: range[2]!, source: range[3]!, body: body.nodes });
      continue;
    }
    if (/^(else|end|range|with|define|include|template|block)\b/.test(action))
      throw new Error(`outside the chart's template subset: {{ ${action} }}`);
    nodes.push({ kind: 'output', expression: action });
  }
  if (stopAt.length > 0) throw new Error(`missing {{ end }} (expected one of ${stopAt.join(', ')})`);
  return { nodes, stop: '' };
}

function lookup(reference: string, scope: Scope): unknown {
  if (reference.startsWith('"')) return JSON.parse(reference);
  if (/^\d+$/.test(reference)) return Number(reference);
  if (reference.startsWith('$')) {
    if (!(reference.slice(1) in scope.vars)) throw new Error(`unknown variable ${reference}`);
    return scope.vars[reference.slice(1)];
  }
  const match = /^\.(Values|Release|Chart)((?:\.\w+)*)$/.exec(reference);
  if (!match) throw new Error(`outside the chart's template subset: ${reference}`);
  let value: unknown = scope[match[1] as 'Values' | 'Release' | 'Chart'];
  for (const key of match[2]!.split('.').filter(Boolean)) {
    value = value !== null && typeof value === 'object' ? (value as Record<string, unknown>)[key] : undefined;
  }
  return value;
}

/** Go's template truth: false, 0, nil, and empty strings, maps and lists are false. */
function truthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (value !== null && typeof value === 'object') return Object.keys(value).length > 0;
  return Boolean(value);
}

function condition(expression: string, scope: Scope): boolean {
  const words = expression.split(/\s+/);
  if (words[0] === 'not' && words.length === 2) return !truthy(lookup(words[1]!, scope));
  if (words[0] === 'eq' && words.length === 3) return lookup(words[1]!, scope) === lookup(words[2]!, scope);
  if (words.length === 1) return truthy(lookup(words[0]!, scope));
  throw new Error(`outside the chart's template subset: {{ if ${expression} }}`);
}

function printed(value: unknown): string {
  if (value === undefined || value === null) return '<no value>';
  if (typeof value === 'object') throw new Error('a map or list printed without toYaml');
  return String(value);
}

function evaluate(expression: string, scope: Scope): string {
  const stages = expression.split('|').map((stage) => stage.trim());
  const first = stages.shift()!.split(/\s+/);
  let value: unknown;
  if (first[0] === 'toYaml' && first.length === 2) {
    value = stringify(lookup(first[1]!, scope)).replace(/\n$/, '');
  } else if (first.length === 1) {
    value = lookup(first[0]!, scope);
  } else throw new Error(`outside the chart's template subset: {{ ${expression} }}`);
  for (const stage of stages) {
    const [name, argument] = stage.split(/\s+/);
    if (name === 'quote') value = JSON.stringify(printed(value));
    else if (name === 'nindent' && argument) {
      const pad = ' '.repeat(Number(argument));
      value = `\n${printed(value)
        .split('\n')
        .map((line) => pad + line)
        .join('\n')}`;
    } else throw new Error(`outside the chart's template subset: | ${stage}`);
  }
  return printed(value);
}

function renderNodes(nodes: Node[], scope: Scope): string {
  return nodes
    .map((node) => {
      if (node.kind === 'text') return node.text;
      if (node.kind === 'output') return evaluate(node.expression, scope);
      if (node.kind === 'if') return renderNodes(condition(node.condition, scope) ? node.whenTrue : node.whenFalse, scope);
      const source = lookup(node.source, scope);
      if (source === null || typeof source !== 'object' || Array.isArray(source)) throw new Error(`range over ${node.source}: not a map`);
      return Object.keys(source)
        .toSorted()
        .map((key) =>
          renderNodes(node.body, {
            ...scope,
            vars: { ...scope.vars, [node.keyVar]: key, [node.valueVar]: (source as Record<string, unknown>)[key] },
          }),
        )
        .join('');
    })
    .join('');
}

/** Deep merge, as Helm merges `--set`/`-f` values over the chart's values.yaml. */
function merged(base: unknown, over: unknown): unknown {
  if (base === null || typeof base !== 'object' || Array.isArray(base) || over === null || typeof over !== 'object' || Array.isArray(over))
    return over === undefined ? base : over;
  const result: Record<string, unknown> = { ...(base as Record<string, unknown>) };
  for (const [key, value] of Object.entries(over)) result[key] = merged(result[key], value);
  return result;
}

export interface RenderedManifest {
  template: string;
  object: Record<string, unknown>;
}

/** Every manifest the chart renders with these values over its values.yaml, parsed. */
export function renderChart(chartDir: string, values: Record<string, unknown> = {}, release = { Name: 'assent', Namespace: 'assent' }) {
  const chart = parse(readFileSync(path.join(chartDir, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
  const scope: Scope = {
    Values: merged(parse(readFileSync(path.join(chartDir, 'values.yaml'), 'utf8')), values),
    Release: release,
    Chart: { Name: chart.name, Version: chart.version, AppVersion: chart.appVersion },
    vars: {},
  };
  const manifests: RenderedManifest[] = [];
  for (const file of readdirSync(path.join(chartDir, 'templates')).toSorted()) {
    if (!file.endsWith('.yaml')) continue;
    const text = renderNodes(parseNodes(tokenize(readFileSync(path.join(chartDir, 'templates', file), 'utf8')), { i: 0 }, []).nodes, scope);
    if (text.includes('<no value>')) throw new Error(`${file}: a value the template reads is missing`);
    for (const document of parseAllDocuments(text)) {
      if (document.errors.length > 0) throw new Error(`${file}: ${document.errors[0]!.message}`);
      const object = document.toJS() as Record<string, unknown> | null;
      if (object) manifests.push({ template: file, object });
    }
  }
  return manifests;
}
