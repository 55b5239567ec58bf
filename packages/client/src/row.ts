/**
 * Rows as the client hands them out (times as `Date`), and the checked conversion from the
 * server's JSON rows. A row of the wrong shape is an {@link UnexpectedResponseError}, never a
 * half-filled object.
 */
import { UnexpectedResponseError } from './errors.js';

interface RowBase {
  key: string;
  /** When the key expires, or `null` when it never does. */
  expiresAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

/** A key holding a string. */
export type StringRow = RowBase & { kind: 'string'; value: string };

/** A key holding a list of strings. */
export type ListRow = RowBase & { kind: 'string_slice'; value: string[] };

/** A key with its value and times; test `kind` to narrow `value` to `string` or `string[]`. */
export type Row = StringRow | ListRow;

/** A list after a pop, with the element that was removed. */
export type PopRow = ListRow & { popped: string };

/** Converts a JSON row from the server. @throws UnexpectedResponseError when `json` is not a row. */
export function toRow(json: unknown, status: number): Row {
  if (typeof json !== 'object' || json === null) throw badRow(status, 'not an object');
  const { key, kind, value, ttl, created_at: createdAt, updated_at: updatedAt } = json as Record<string, unknown>;
  if (typeof key !== 'string') throw badRow(status, '"key" is not a string');
  const base: RowBase = {
    key,
    expiresAt: ttl === null ? null : toDate(ttl, 'ttl', status),
    createdAt: toDate(createdAt, 'created_at', status),
    updatedAt: toDate(updatedAt, 'updated_at', status),
  };
  if (kind === 'string' && typeof value === 'string') return { ...base, kind, value };
  if (kind === 'string_slice' && Array.isArray(value) && value.every((item) => typeof item === 'string')) {
    return { ...base, kind, value: value as string[] };
  }
  throw badRow(status, `"kind" ${JSON.stringify(kind)} does not match "value"`);
}

/** Converts a JSON row answered by a pop. @throws UnexpectedResponseError when `json` is not one. */
export function toPopRow(json: unknown, status: number): PopRow {
  const row = toListRow(json, status);
  const popped = (json as { popped?: unknown }).popped;
  if (typeof popped !== 'string') throw badRow(status, '"popped" is not a string');
  return { ...row, popped };
}

/** Converts a JSON row that must hold a list (push and pop answers). */
export function toListRow(json: unknown, status: number): ListRow {
  const row = toRow(json, status);
  if (row.kind !== 'string_slice') throw badRow(status, 'expected a list');
  return row;
}

function toDate(text: unknown, field: string, status: number): Date {
  const date = typeof text === 'string' ? new Date(text) : undefined;
  if (date === undefined || Number.isNaN(date.getTime())) throw badRow(status, `"${field}" is not a time`);
  return date;
}

function badRow(status: number, reason: string): UnexpectedResponseError {
  return new UnexpectedResponseError('unexpected_response', `the server's answer is not a memkv row: ${reason}`, { status });
}
