import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { test } from 'node:test';

/**
 * Imports run downward only, per the layer map in docs/architecture.md (read from there, so the map
 * and the check cannot drift apart).
 */

const root = path.resolve(import.meta.dirname, '..');
const src = path.join(root, 'src');

async function layerMap(): Promise<Map<string, number>> {
  const doc = await readFile(path.join(root, 'docs/architecture.md'), 'utf8');
  const block = /```layers\n([\s\S]*?)```/.exec(doc)?.[1];
  assert.ok(block, 'docs/architecture.md has a ```layers block');
  const lines = block.trim().split('\n').toReversed();
  return new Map(
    lines.flatMap((line, rank) =>
      line
        .trim()
        .split(/\s+/)
        .map((unit): [string, number] => [unit, rank]),
    ),
  );
}

/** The layer unit of a file under src/: its top folder or the file itself. */
function unitOf(file: string): string {
  return path.relative(src, file).split(path.sep)[0]!;
}

/** Every relative module a file names: static imports and re-exports, side-effect imports, import(). */
export function importsOf(text: string): string[] {
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  const found = code.matchAll(/(?:^|[;\s])(?:import|export)\s[^;]*?\bfrom\s*['"]([^'"]+)['"]|\bimport\s*\(?\s*['"]([^'"]+)['"]/g);
  return [...found].map((match) => match[1] ?? match[2]!).filter((spec) => spec.startsWith('.'));
}

const at = (file: string) => path.join(src, file);

async function sourceFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile() && entry.name.endsWith('.ts')).map((entry) => path.join(entry.parentPath, entry.name));
}

interface Arrow {
  from: string;
  to: string;
}

/** The arrows the map forbids: to a higher layer, to a sibling on the same layer, or from/to an unmapped unit. */
export function wrongArrows(arrows: Arrow[], layers: Map<string, number>): string[] {
  const wrong: string[] = [];
  for (const { from, to } of arrows) {
    const fromUnit = unitOf(from);
    const toUnit = unitOf(to);
    if (fromUnit === toUnit) continue;
    const fromRank = layers.get(fromUnit);
    const toRank = layers.get(toUnit);
    if (fromRank === undefined || toRank === undefined)
      wrong.push(`${fromUnit} or ${toUnit} is not in the layer map (${path.relative(root, from)})`);
    else if (toRank >= fromRank)
      wrong.push(`${path.relative(root, from)} -> ${path.relative(root, to)} (${fromUnit} may not import ${toUnit})`);
  }
  return wrong;
}

async function arrowsOfSrc(): Promise<Arrow[]> {
  const arrows: Arrow[] = [];
  for (const file of await sourceFiles(src)) {
    for (const spec of importsOf(await readFile(file, 'utf8'))) arrows.push({ from: file, to: path.resolve(path.dirname(file), spec) });
  }
  return arrows;
}

test('every import in src/ runs down the layer map', async () => {
  const arrows = await arrowsOfSrc();
  assert.ok(arrows.length > 200, `read ${arrows.length} imports`);
  assert.deepEqual(wrongArrows(arrows, await layerMap()), []);
});

test('only the provider set-up reaches the adapter: everything else writes clients through store/clients.ts', async () => {
  const adapter = at('store/adapter.ts');
  const importers = (await arrowsOfSrc()).filter((arrow) => arrow.to === adapter).map((arrow) => path.relative(src, arrow.from));
  assert.ok(importers.length > 0);
  assert.deepEqual(
    importers.filter((file) => !/^(store|oidc)\/|^server\.ts$/.test(file)),
    [],
  );
});

test('every folder and top-level file of src/ is on the map', async () => {
  const layers = await layerMap();
  const units = new Set((await sourceFiles(src)).map(unitOf));
  assert.deepEqual(
    [...units].filter((unit) => !layers.has(unit)),
    [],
  );
});

test('test/ is shaped like src/: each folder of tests names a folder of src/, or is journeys/, conformance/ or support/ (test/README.md)', async () => {
  const folders = (await readdir(path.join(root, 'test'), { withFileTypes: true, recursive: true }))
    .filter((entry) => entry.isDirectory())
    .map((entry) => path.relative(path.join(root, 'test'), path.join(entry.parentPath, entry.name)));
  const apart = folders.filter((folder) => !/^(journeys|conformance|support)(\/|$)/.test(folder));
  const srcFolders = new Set(
    (await readdir(src, { withFileTypes: true, recursive: true }))
      .filter((entry) => entry.isDirectory())
      .map((entry) => path.relative(src, path.join(entry.parentPath, entry.name))),
  );
  assert.deepEqual(
    apart.filter((folder) => !srcFolders.has(folder)),
    [],
  );
});

test('the check catches an upward arrow, a sibling arrow and every import form', async () => {
  const layers = await layerMap();
  assert.deepEqual(wrongArrows([{ from: at('store/adapter.ts'), to: at('consents/consent-service.ts') }], layers).length, 1);
  assert.deepEqual(wrongArrows([{ from: at('tpp/tpp-service.ts'), to: at('consents/consent.ts') }], layers).length, 1);
  assert.deepEqual(wrongArrows([{ from: at('bank/bank-router.ts'), to: at('consent-api/consent-router.ts') }], layers).length, 1);
  assert.deepEqual(wrongArrows([{ from: at('consent-api/consent-router.ts'), to: at('consents/consent.ts') }], layers), []);
  const text =
    "import a from './a.ts';\nimport {\n  b,\n} from '../b.ts';\nexport { c } from './c.ts';\nimport './d.ts';\nconst e = await import('./e.ts');\nimport x from 'koa';";
  assert.deepEqual(importsOf(text), ['./a.ts', '../b.ts', './c.ts', './d.ts', './e.ts']);
});

/** Kysely's statement builders and the sql template: what writes SQL. */
const SQL_WRITING =
  /\.(?:selectFrom|insertInto|updateTable|deleteFrom|mergeInto|replaceInto)\s*\(|\bsql(?:<[^`]*?>)?`|\bsql\.(?:raw|ref|table|id|lit|join)\s*\(/;

/** Whether a file may write SQL: a repository (`*-repository.ts`), the store or db/. */
function mayWriteSql(file: string): boolean {
  const relative = path.relative(src, file).split(path.sep).join('/');
  return relative.endsWith('-repository.ts') || /^(store|db)\//.test(relative);
}

/** Files outside repositories that may still write SQL, each with its reason (issue 27: keep it empty if you can). */
const SQL_OUTSIDE_REPOSITORIES = new Map<string, string>([
  // None: every statement has a named repository function. An entry is a file's path under src/ and why it may.
]);

export function writesSql(text: string): boolean {
  return SQL_WRITING.test(text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, ''));
}

test('SQL is written only in repositories, the store and db/ (issue 27)', async () => {
  const offenders: string[] = [];
  for (const file of await sourceFiles(src)) {
    if (mayWriteSql(file)) continue;
    if (writesSql(await readFile(file, 'utf8'))) offenders.push(path.relative(src, file).split(path.sep).join('/'));
  }
  assert.deepEqual(
    offenders.filter((file) => !SQL_OUTSIDE_REPOSITORIES.has(file)),
    [],
  );
  // An exception that no longer writes SQL leaves the list.
  assert.deepEqual(
    [...SQL_OUTSIDE_REPOSITORIES.keys()].filter((file) => !offenders.includes(file)),
    [],
  );
});

test('the SQL check sees every builder and the sql template, and not comments or names', () => {
  for (const text of [
    "db.selectFrom('a')",
    'trx\n  .insertInto("a")',
    'db.updateTable(t)',
    'db.deleteFrom(t)',
    'sql`select 1`',
    'sql<number>`select 1`',
    "sql.ref('a.b')",
  ])
    assert.ok(writesSql(text), text);
  for (const text of [
    '// db.selectFrom(x)',
    '/** sql`x` */',
    'const deleteFromCache = 1;',
    'findSqlThing()',
    "import { sql } from 'kysely';",
  ])
    assert.ok(!writesSql(text), text);
});
