/** How the CLI prints answers as readable text (with --json it prints the API's JSON as it came). */
import type { Row, StatsJson } from '@memkv/client';

/** The readable form of a value: a string as it is; a list as numbered lines, or `(empty list)`. */
export function formatValue(row: Row): string {
  if (row.kind === 'string') return row.value;
  if (row.value.length === 0) return '(empty list)';
  return row.value.map((item, index) => `${index + 1}) ${item}`).join('\n');
}

/**
 * The readable form of the stats, like Redis INFO: a `# section` line, then `name:value` lines;
 * nested objects (the command counts) become `commands.get:12`.
 */
export function formatStats(stats: StatsJson): string {
  const lines: string[] = [];
  for (const [section, fields] of Object.entries(stats)) {
    if (lines.length > 0) lines.push('');
    lines.push(`# ${section}`);
    for (const [name, value] of Object.entries(fields as Record<string, unknown>)) {
      if (value !== null && typeof value === 'object') {
        for (const [inner, count] of Object.entries(value)) lines.push(`${name}.${inner}:${String(count)}`);
      } else lines.push(`${name}:${String(value)}`);
    }
  }
  return lines.join('\n');
}
