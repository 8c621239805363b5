/** What the CLI prints: JSON for scripts (`--json`), otherwise lines a person reads. */

function scalar(value: unknown): string {
  if (value === null || value === undefined) return '-';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function table(rows: Record<string, unknown>[]): string[] {
  if (rows.length === 0) return ['(none)'];
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((row) => columns.map((column) => scalar(Array.isArray(row[column]) ? (row[column] as unknown[]).join(',') : row[column])));
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map((line) => line[index]!.length)));
  const line = (values: string[]) => values.map((value, index) => value.padEnd(widths[index]!)).join('  ').trimEnd();
  return [line(columns), ...cells.map(line)];
}

function record(value: Record<string, unknown>): string[] {
  const lines: string[] = [];
  for (const [key, field] of Object.entries(value)) {
    if (Array.isArray(field) && field.length > 0 && field.every((item) => typeof item === 'object' && item !== null)) {
      lines.push(`${key}:`, ...table(field as Record<string, unknown>[]).map((row) => `  ${row}`));
    } else {
      lines.push(`${key}: ${Array.isArray(field) ? field.map(scalar).join(', ') || '-' : scalar(field)}`);
    }
  }
  return lines;
}

export function render(result: unknown, options: { json: boolean; jsonl: boolean }): string[] {
  if (options.jsonl) return (result as unknown[]).map((line) => JSON.stringify(line));
  if (options.json) return [JSON.stringify(result, null, 2)];
  if (Array.isArray(result)) return result.every((item) => typeof item === 'object' && item !== null) ? table(result as Record<string, unknown>[]) : result.map(scalar);
  if (typeof result === 'object' && result !== null) return record(result as Record<string, unknown>);
  return [scalar(result)];
}
