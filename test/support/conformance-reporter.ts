import path from 'node:path';
import { conformanceNameParts } from './conformance.ts';

/**
 * A reporter for Node's test runner (`--test-reporter`), beside the spec reporter: it writes, as one JSON
 * array, the outcome of every test named after a conformance module, for test/run.ts to build
 * docs/conformance.md from.
 */

interface TestEventData {
  name: string;
  file?: string;
  skip?: boolean | string;
  todo?: boolean | string;
}

export interface ConformanceOutcome {
  module: string;
  variant: string;
  file: string;
  outcome: 'passed' | 'failed' | 'skipped';
}

export default async function* conformanceReporter(source: AsyncIterable<{ type: string; data: TestEventData }>) {
  const outcomes: ConformanceOutcome[] = [];
  for await (const { type, data } of source) {
    if (type !== 'test:pass' && type !== 'test:fail') continue;
    const parts = conformanceNameParts(data.name);
    if (!parts || !data.file) continue;
    const outcome = type === 'test:fail' ? 'failed' : data.skip || data.todo ? 'skipped' : 'passed';
    outcomes.push({ ...parts, file: path.relative(process.cwd(), data.file), outcome });
  }
  yield JSON.stringify(outcomes);
}
