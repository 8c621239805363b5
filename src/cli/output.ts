/** What the CLI prints: JSON for scripts (`--json`), otherwise lines a person reads. */

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A list's cell: a value on one line. Nested objects are for `show` and `--json`, not for a list. */
function cell(value: unknown): string {
  if (Array.isArray(value))
    return value.every((item) => typeof item !== 'object' || item === null) ? value.map(scalar).join(',') : `(${value.length}, see --json)`;
  if (typeof value === 'object' && value !== null && !(value instanceof Date)) return '(see --json)';
  return scalar(value);
}

const GAP = 2;
/** No column is cut narrower than this, whatever the terminal: a cut value must still say something. */
const NARROWEST = 8;

/** The width of a table's lines with these column widths. */
const lineWidth = (widths: number[]) => widths.reduce((sum, each) => sum + each, 0) + GAP * (widths.length - 1);

/**
 * Column widths within `width` characters: every column wider than a common cap is cut to it (none
 * below its heading), with the cap as high as the terminal allows.
 */
function fitted(widths: number[], headings: string[], width: number | undefined): number[] {
  if (width === undefined) return widths;
  const floor = headings.map((heading, index) => Math.min(widths[index]!, Math.max(NARROWEST, heading.length)));
  const capped = (cap: number) => widths.map((each, index) => Math.max(floor[index]!, Math.min(each, cap)));
  let cap = Math.max(...widths);
  while (cap > NARROWEST && lineWidth(capped(cap)) > width) cap -= 1;
  return capped(cap);
}

const cut = (value: string, width: number) => (value.length <= width ? value : `${value.slice(0, width - 1)}…`);

/** A show's cell: everything, as JSON where nested. */
const fullCell = (value: unknown) => scalar(Array.isArray(value) ? value.join(',') : value);

function table(rows: Record<string, unknown>[], width: number | undefined, cellOf: (value: unknown) => string): string[] {
  if (rows.length === 0) return ['(none)'];
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((column) => cellOf(row[column])));
  const widths = fitted(
    columns.map((column, index) => Math.max(column.length, ...cells.map((line) => line[index]!.length))),
    columns,
    width,
  );
  const line = (values: string[]) =>
    values
      .map((value, index) => cut(value, widths[index]!).padEnd(widths[index]!))
      .join(' '.repeat(GAP))
      .trimEnd();
  return [line(columns), ...cells.map(line)];
}

function record(value: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    if (Array.isArray(field) && field.length > 0 && field.every((item) => typeof item === 'object' && item !== null)) {
      lines.push(`${key}:`, ...table(field as Record<string, unknown>[], undefined, fullCell).map((row) => `  ${row}`));
    } else {
      lines.push(`${key}: ${Array.isArray(field) ? field.map(scalar).join(', ') || '-' : scalar(field)}`);
    }
  }
  return lines;
}

/** `width`: the terminal's columns, which a list fits (cut values end in …); undefined when not a terminal. A show stays whole. */
export function render(result: unknown, options: { json: boolean; jsonl: boolean; width?: number | undefined }): string[] {
  if (options.jsonl) return (result as unknown[]).map((line) => JSON.stringify(line));
  if (options.json) return [JSON.stringify(result, null, 2)];
  if (Array.isArray(result))
    return result.every((item) => typeof item === 'object' && item !== null)
      ? table(result as Record<string, unknown>[], options.width, cell)
      : result.map(scalar);
  if (typeof result === 'object' && result !== null) return record(result as Record<string, unknown>);
  return [scalar(result)];
}
