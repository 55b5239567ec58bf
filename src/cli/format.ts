/** How the CLI prints rows: readable text by default, JSON with --json. */
import type { PopRow, Row } from '@memkv/client';

/** The readable form of a value: a string as it is; a list as numbered lines, or `(empty list)`. */
export function formatValue(row: Row): string {
  if (row.kind === 'string') return row.value;
  if (row.value.length === 0) return '(empty list)';
  return row.value.map((item, index) => `${index + 1}) ${item}`).join('\n');
}

/** The JSON form of a row: the client's row, times as RFC 3339 strings. */
export function rowJson(row: Row | PopRow): string {
  return JSON.stringify(row);
}
