/**
 * Rows as the client hands them out (times as `Date`), the checks of the server's JSON rows, and
 * the conversion from one to the other. A row of the wrong shape is an
 * {@link UnexpectedResponseError}, never a half-filled object.
 */
import { UnexpectedResponseError } from './errors.js';
import type { ListRowJson, MinimalPopRowJson, MinimalRowJson, PopRowJson, RangeRowJson, RowJson, TtlJson } from './protocol.js';

interface RowBase {
  key: string;
  /** The revision of the key's last write: pass it as `ifVersion` to write only if nobody changed the key since. */
  version: number;
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

/** A list without its elements, as `push` and `pop` answer with `{ minimal: true }`: `length` in place of `value`. */
export type MinimalListRow = RowBase & { kind: 'string_slice'; length: number };

/** A list after a `pop` with `{ minimal: true }`: its length, and the element that was removed. */
export type MinimalPopRow = MinimalListRow & { popped: string };

/**
 * A slice of a list, as `range` answers it: `value` holds the elements from `start` to `stop`,
 * `length` the number of elements in the whole list.
 */
export type RangeRow = ListRow & { length: number };

/** The expiry of a key, as `getTtl` and `setTtl` answer it. */
export interface Expiry {
  key: string;
  version: number;
  /** When the key expires, or `null` when it never does. */
  expiresAt: Date | null;
}

// ---- Checks of the server's JSON ----

/** Checks a JSON row from the server. @returns `json`, unchanged. @throws UnexpectedResponseError when it is not a row. */
export function checkRow(json: unknown, status: number): RowJson {
  const fields = checkBase(json, status);
  const { kind, value } = fields;
  if (kind === 'string' && typeof value === 'string') return json as RowJson;
  if (kind === 'string_slice' && isStrings(value)) return json as RowJson;
  throw badRow(status, `"kind" ${JSON.stringify(kind)} does not match "value"`);
}

/** Checks a JSON row that must hold a list (the answer of push). */
export function checkListRow(json: unknown, status: number): ListRowJson {
  const row = checkRow(json, status);
  if (row.kind !== 'string_slice') throw badRow(status, 'expected a list');
  return row;
}

/** Checks the JSON answer of a pop: a list row with `popped`. */
export function checkPopRow(json: unknown, status: number): PopRowJson {
  const row = checkListRow(json, status);
  if (typeof (row as Partial<PopRowJson>).popped !== 'string') throw badRow(status, '"popped" is not a string');
  return row as PopRowJson;
}

/**
 * Checks the answer of a push sent with `Prefer: return=minimal`: a minimal row, or a whole list
 * row from a server (or proxy) that did not apply the preference.
 */
export function checkMinimalRow(json: unknown, status: number): MinimalRowJson | ListRowJson {
  const fields = checkBase(json, status);
  if (fields.kind !== 'string_slice') throw badRow(status, 'expected a list');
  if ('value' in fields) return checkListRow(json, status);
  if (!Number.isSafeInteger(fields.length) || (fields.length as number) < 0) throw badRow(status, '"length" is not a whole number');
  return json as MinimalRowJson;
}

/** Checks the answer of a pop sent with `Prefer: return=minimal` (or the whole row, see {@link checkMinimalRow}). */
export function checkMinimalPopRow(json: unknown, status: number): MinimalPopRowJson | PopRowJson {
  const row = checkMinimalRow(json, status);
  if (typeof (row as Partial<PopRowJson>).popped !== 'string') throw badRow(status, '"popped" is not a string');
  return row as MinimalPopRowJson | PopRowJson;
}

/** Checks the answer of a range: a list row whose `value` is the slice, plus the whole list's `length`. */
export function checkRangeRow(json: unknown, status: number): RangeRowJson {
  const fields = checkBase(json, status);
  if (fields.kind !== 'string_slice' || !isStrings(fields.value)) throw badRow(status, 'expected a list');
  const length = fields.length;
  if (!Number.isSafeInteger(length) || (length as number) < fields.value.length) {
    throw badRow(status, '"length" is not a whole number at least the number of elements');
  }
  return json as RangeRowJson;
}

/** Checks the answer of `GET` and `PATCH /{key}/ttl`: `{key, ttl}`. */
export function checkTtl(json: unknown, status: number): TtlJson {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badExpiry(status, 'not an object');
  const fields = json as Record<string, unknown>;
  if (typeof fields.key !== 'string') throw badExpiry(status, '"key" is not a string');
  if (!isVersion(fields.version)) throw badExpiry(status, '"version" is not a whole number');
  if (fields.ttl !== null && (typeof fields.ttl !== 'string' || Number.isNaN(new Date(fields.ttl).getTime()))) {
    throw badExpiry(status, '"ttl" is neither a time nor null');
  }
  return json as TtlJson;
}

// ---- Conversions of checked JSON ----

/** The client's row for a checked JSON row. */
export function toRow(json: RowJson): Row {
  const base = toBase(json);
  return json.kind === 'string' ? { ...base, kind: json.kind, value: json.value } : { ...base, kind: json.kind, value: json.value };
}

/** The client's list row for a checked JSON list row. */
export function toListRow(json: ListRowJson): ListRow {
  return { ...toBase(json), kind: json.kind, value: json.value };
}

/** The client's row for a checked pop answer. */
export function toPopRow(json: PopRowJson): PopRow {
  return { ...toListRow(json), popped: json.popped };
}

/** The client's minimal row for a checked minimal answer (a whole row gives its length). */
export function toMinimalListRow(json: MinimalRowJson | ListRowJson): MinimalListRow {
  return { ...toBase(json), kind: 'string_slice', length: 'value' in json ? json.value.length : json.length };
}

/** The client's minimal pop row for a checked minimal pop answer. */
export function toMinimalPopRow(json: MinimalPopRowJson | PopRowJson): MinimalPopRow {
  return { ...toMinimalListRow(json), popped: json.popped };
}

/** The client's range row for a checked range answer. */
export function toRangeRow(json: RangeRowJson): RangeRow {
  return { ...toBase(json), kind: json.kind, value: json.value, length: json.length };
}

/** The client's expiry for a checked `{key, ttl}` answer. */
export function toExpiry(json: TtlJson): Expiry {
  return { key: json.key, version: json.version, expiresAt: json.ttl === null ? null : new Date(json.ttl) };
}

// ---- Helpers ----

/** Checks the fields every row has (key and times). @returns the row's fields. */
function checkBase(json: unknown, status: number): Record<string, unknown> {
  if (typeof json !== 'object' || json === null || Array.isArray(json)) throw badRow(status, 'not an object');
  const fields = json as Record<string, unknown>;
  if (typeof fields.key !== 'string') throw badRow(status, '"key" is not a string');
  if (!isVersion(fields.version)) throw badRow(status, '"version" is not a whole number');
  if (fields.ttl !== null) checkTime(fields.ttl, 'ttl', status);
  checkTime(fields.created_at, 'created_at', status);
  checkTime(fields.updated_at, 'updated_at', status);
  return fields;
}

function toBase(json: { key: string; version: number; ttl: string | null; created_at: string; updated_at: string }): RowBase {
  return {
    key: json.key,
    version: json.version,
    expiresAt: json.ttl === null ? null : new Date(json.ttl),
    createdAt: new Date(json.created_at),
    updatedAt: new Date(json.updated_at),
  };
}

/** A version as the server writes it: a whole number >= 0. */
export function isVersion(value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 0;
}

function isStrings(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}

function checkTime(text: unknown, field: string, status: number): void {
  if (typeof text !== 'string' || Number.isNaN(new Date(text).getTime())) throw badRow(status, `"${field}" is not a time`);
}

function badRow(status: number, reason: string): UnexpectedResponseError {
  return new UnexpectedResponseError('unexpected_response', `the server's answer is not a memkv row: ${reason}`, { status });
}

function badExpiry(status: number, reason: string): UnexpectedResponseError {
  return new UnexpectedResponseError('unexpected_response', `the server's answer is not a memkv expiry {"key", "ttl"}: ${reason}`, { status });
}
