import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

/** Where a sample's code lives: a package, Node itself, Assent's sources, or the VM's own bookkeeping. */
function area(url: string, functionName: string) {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1]!;
  if (url.startsWith('node:')) return 'node internals';
  if (url.includes('/src/')) return 'assent src';
  return 'other';
}

export interface ProfileSummary {
  totalMs: number;
  areas: { name: string; share: number }[];
  functions: { name: string; share: number }[];
  /** Socket writes (writev, writeUtf8String, writeBuffer), by who wrote: the nearest package or HTTP layer up the stack. */
  writers: { name: string; share: number }[];
}

const SOCKET_WRITES = new Set(['writev', 'writeUtf8String', 'writeBuffer', 'writeLatin1String']);

/** The first caller up the stack that says who wrote: a package (pg, pino), or Node's HTTP or TLS layer. */
function writerOf(node: ProfileNode, parents: Map<number, ProfileNode>) {
  for (let current = parents.get(node.id); current; current = parents.get(current.id)) {
    const { url } = current.callFrame;
    const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
    if (pkg) return pkg[1]!;
    if (url.startsWith('node:_http_')) return 'HTTP responses (node:_http_*)';
    if (url.includes('/src/')) return 'assent src';
  }
  return 'unknown';
}

/** Start-up: a sample under the module loader is loading code, not serving requests. */
function loadingModules(node: ProfileNode, parents: Map<number, ProfileNode>) {
  for (let current: ProfileNode | undefined = node; current; current = parents.get(current.id)) {
    if (current.callFrame.url.startsWith('node:internal/modules/')) return true;
  }
  return false;
}

/** Self time by area and by function, from the .cpuprofile files in `directory`; idle and start-up left out. */
export async function summarizeProfiles(directory: string, top = 12): Promise<ProfileSummary> {
  const files = (await readdir(directory)).filter((file) => file.endsWith('.cpuprofile'));
  const byArea = new Map<string, number>();
  const byFunction = new Map<string, number>();
  const byWriter = new Map<string, number>();
  let samples = 0;
  let totalMs = 0;
  for (const file of files) {
    const profile = JSON.parse(await readFile(path.join(directory, file), 'utf8')) as CpuProfile;
    totalMs += (profile.endTime - profile.startTime) / 1000;
    const nodes = new Map(profile.nodes.map((node) => [node.id, node]));
    const parents = new Map<number, ProfileNode>();
    for (const node of profile.nodes) for (const child of node.children ?? []) parents.set(child, node);
    for (const id of profile.samples) {
      const { functionName, url, lineNumber } = nodes.get(id)!.callFrame;
      const where = area(url, functionName);
      if (where === '(idle)' || loadingModules(nodes.get(id)!, parents)) continue;
      samples += 1;
      byArea.set(where, (byArea.get(where) ?? 0) + 1);
      const name =
        `${functionName || '(anonymous)'} ${url ? `${url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/src\//, 'src/')}:${lineNumber + 1}` : ''}`.trim();
      byFunction.set(name, (byFunction.get(name) ?? 0) + 1);
      if (SOCKET_WRITES.has(functionName)) {
        const writer = writerOf(nodes.get(id)!, parents);
        byWriter.set(writer, (byWriter.get(writer) ?? 0) + 1);
      }
    }
  }
  const ranked = (counts: Map<string, number>) =>
    [...counts]
      .toSorted((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([name, count]) => ({ name, share: count / Math.max(samples, 1) }));
  return { totalMs, areas: ranked(byArea), functions: ranked(byFunction), writers: ranked(byWriter) };
}
