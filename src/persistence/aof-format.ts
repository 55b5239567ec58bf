/**
 * The byte format of the append-only log: the file header, the framing of each record
 * (length + CRC32, so that a torn or damaged record is detected) and the binary encoding of
 * every mutation and of the snapshot entries that compaction writes.
 *
 * File:    "MEMKVAOF" u32le(version) record*
 * Record:  u32le(payload length) payload u32le(crc32 of the length bytes and the payload)
 * Payload: u8(record type) f64le(revision) fields…   (times are float64le epoch ms, 0 = never;
 *          strings are varint(UTF-8 byte length) + bytes; lists are varint(count) + strings)
 * A transaction's record holds its keys' payloads, each as u32le(length) + payload without the
 * revision (they share the transaction's).
 *
 * Version 1 (before revisions) has no revision field; it is still read (replay counts the
 * revisions), and the server rewrites such a log as version 2 before it appends to it.
 */
import { crc32 } from 'node:zlib';
import type { Entry } from '../engine/store.js';
import type { KeyMutation, Mutation } from '../engine/mutation.js';
import type { KeptRecord } from '../idempotency/idempotency-store.js';

/** First bytes of every log file. */
export const AOF_MAGIC = Buffer.from('MEMKVAOF', 'latin1');
/** Version of the record encoding, written after the magic. */
export const AOF_VERSION = 2;
/** The versions replay reads. */
export type AofVersion = 1 | 2;
/** Size of the file header (magic + version), in bytes. */
export const AOF_HEADER_BYTES = AOF_MAGIC.length + 4;
/** Bytes a record adds around its payload (length before, CRC after). */
export const FRAME_OVERHEAD_BYTES = 8;
/** Largest payload accepted, in bytes: a larger length field can only be damage. */
export const MAX_PAYLOAD_BYTES = 0x7fff_ffff;

/** Record types (the first payload byte). Values are part of the file format: never renumber. */
const enum Op {
  SetString = 1,
  SetList = 2,
  UpdateString = 3,
  UpdateList = 4,
  Push = 5,
  Pop = 6,
  Remove = 7,
  Expired = 8,
  Ttl = 9,
  /** A whole key as compaction writes it, with both creation and update times. */
  EntryString = 10,
  EntryList = 11,
  /** A transaction: its keys' mutations, applied together. */
  Txn = 12,
  /** Every key removed. */
  Flush = 13,
  /** The database's revision (compaction writes it: the last change may have removed its key). */
  Revision = 14,
  /**
   * A kept answer to a request with an `Idempotency-Key` (src/idempotency/), written in the same
   * write as the change it answers; its revision field is 0 (it changes no key).
   */
  Kept = 15,
}

// ---- Encoding ----

/**
 * Encodes records into one growable buffer that is reused from one call to the next, so the
 * append path allocates nothing once the buffer has reached its working size.
 */
export class RecordEncoder {
  #buffer: Buffer;
  #length = 0;
  /** Offset where the record being written starts. */
  #recordStart = 0;

  constructor(initialBytes = 4096) {
    this.#buffer = Buffer.allocUnsafe(initialBytes);
  }

  /** Bytes encoded since the last `reset()`. */
  get length(): number {
    return this.#length;
  }

  /** The encoded bytes (a view, valid until the next call). */
  get bytes(): Buffer {
    return this.#buffer.subarray(0, this.#length);
  }

  /** The underlying buffer; the encoded bytes are its first `length` bytes. */
  get buffer(): Buffer {
    return this.#buffer;
  }

  /** Forgets what was encoded; the buffer is kept for the next records. */
  reset(): void {
    this.#length = 0;
  }

  /** Appends the file header. */
  header(): void {
    this.#ensure(AOF_HEADER_BYTES);
    AOF_MAGIC.copy(this.#buffer, this.#length);
    this.#buffer.writeUInt32LE(AOF_VERSION, this.#length + AOF_MAGIC.length);
    this.#length += AOF_HEADER_BYTES;
  }

  /** Appends one framed record for `mutation`. */
  mutation(mutation: Mutation): void {
    this.#begin();
    switch (mutation.type) {
      case 'txn':
        this.#u8(Op.Txn);
        this.#f64(mutation.revision);
        this.#varint(mutation.mutations.length);
        for (const each of mutation.mutations) {
          this.#ensure(4);
          const lengthAt = this.#length;
          this.#length += 4;
          this.#keyPayload(each, false);
          this.#buffer.writeUInt32LE(this.#length - lengthAt - 4, lengthAt);
        }
        break;
      case 'flush':
      case 'revision':
        this.#u8(mutation.type === 'flush' ? Op.Flush : Op.Revision);
        this.#f64(mutation.revision);
        break;
      default:
        this.#keyPayload(mutation, true);
    }
    this.#end();
  }

  /** The payload of one key's mutation, with its revision or (inside a transaction's record) without. */
  #keyPayload(mutation: KeyMutation, withRevision: boolean): void {
    let op: Op;
    switch (mutation.type) {
      case 'set':
      case 'update': {
        const isString = typeof mutation.value === 'string';
        op = mutation.type === 'set' ? (isString ? Op.SetString : Op.SetList) : isString ? Op.UpdateString : Op.UpdateList;
        break;
      }
      case 'push':
        op = Op.Push;
        break;
      case 'pop':
        op = Op.Pop;
        break;
      case 'remove':
        op = Op.Remove;
        break;
      case 'expired':
        op = Op.Expired;
        break;
      case 'ttl':
        op = Op.Ttl;
        break;
    }
    this.#u8(op);
    if (withRevision) this.#f64(mutation.revision);
    switch (mutation.type) {
      case 'set':
      case 'update':
        this.#timedKey(mutation.expiresAtMs, mutation.atMs, mutation.key);
        this.#value(mutation.value);
        break;
      case 'push':
        this.#timedKey(mutation.expiresAtMs, mutation.atMs, mutation.key);
        this.#list(mutation.values);
        break;
      case 'pop':
        this.#f64(mutation.atMs);
        this.#string(mutation.key);
        break;
      case 'remove':
      case 'expired':
        this.#string(mutation.key);
        break;
      case 'ttl':
        this.#timedKey(mutation.expiresAtMs, mutation.atMs, mutation.key);
        break;
    }
  }

  /**
   * Appends one framed record holding the whole of `entry` (compaction's snapshot record): a
   * plain set when the key was never changed after its creation, else a record with both times.
   */
  entry(entry: Entry): void {
    if (entry.updatedAtMs === entry.createdAtMs) {
      this.mutation({ type: 'set', revision: entry.version, key: entry.key, value: entry.value, expiresAtMs: entry.expiresAtMs ?? 0, atMs: entry.createdAtMs });
      return;
    }
    this.#begin();
    this.#u8(entry.kind === 'string' ? Op.EntryString : Op.EntryList);
    this.#f64(entry.version);
    this.#f64(entry.expiresAtMs ?? 0);
    this.#f64(entry.createdAtMs);
    this.#f64(entry.updatedAtMs);
    this.#string(entry.key);
    this.#value(entry.value);
    this.#end();
  }

  /**
   * Appends one framed record keeping the answer of an idempotent request:
   * `u8 Kept, f64 0, f64 expiresAtMs, string scope, string key, string fingerprint, varint status,
   * string body, varint header count, (string name, string value) × count`.
   */
  kept(record: KeptRecord): void {
    this.#begin();
    this.#u8(Op.Kept);
    this.#f64(0);
    this.#f64(record.expiresAtMs);
    this.#string(record.scope);
    this.#string(record.key);
    this.#string(record.fingerprint);
    this.#varint(record.answer.status);
    this.#string(record.answer.body);
    const names = Object.keys(record.answer.headers);
    this.#varint(names.length);
    for (const name of names) {
      this.#string(name);
      this.#string(record.answer.headers[name]!);
    }
    this.#end();
  }

  /** The fields most records start with after the type and revision: expiry, time of the change, key. */
  #timedKey(expiresAtMs: number, atMs: number, key: string): void {
    this.#f64(expiresAtMs);
    this.#f64(atMs);
    this.#string(key);
  }

  #begin(): void {
    this.#ensure(FRAME_OVERHEAD_BYTES + 32);
    this.#recordStart = this.#length;
    this.#length += 4; // payload length, filled in by #end()
  }

  #end(): void {
    const start = this.#recordStart;
    this.#buffer.writeUInt32LE(this.#length - start - 4, start);
    this.#ensure(4);
    const crc = crc32(this.#buffer.subarray(start, this.#length));
    this.#buffer.writeUInt32LE(crc, this.#length);
    this.#length += 4;
  }

  #u8(value: number): void {
    this.#ensure(1);
    this.#buffer[this.#length++] = value;
  }

  #f64(value: number): void {
    this.#ensure(8);
    this.#buffer.writeDoubleLE(value, this.#length);
    this.#length += 8;
  }

  #varint(value: number): void {
    this.#ensure(5);
    while (value >= 0x80) {
      this.#buffer[this.#length++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    this.#buffer[this.#length++] = value;
  }

  #string(text: string): void {
    // A UTF-16 code unit is at most 3 UTF-8 bytes: short strings fit a one-byte length, written after.
    if (text.length <= 42) {
      this.#ensure(1 + text.length * 3);
      const written = this.#buffer.write(text, this.#length + 1, 'utf8');
      this.#buffer[this.#length] = written;
      this.#length += 1 + written;
      return;
    }
    const bytes = Buffer.byteLength(text, 'utf8');
    this.#varint(bytes);
    this.#ensure(bytes);
    this.#buffer.write(text, this.#length, bytes, 'utf8');
    this.#length += bytes;
  }

  #list(values: readonly string[]): void {
    this.#varint(values.length);
    for (let i = 0; i < values.length; i++) this.#string(values[i]!);
  }

  #value(value: string | readonly string[]): void {
    if (typeof value === 'string') this.#string(value);
    else this.#list(value);
  }

  #ensure(extra: number): void {
    const needed = this.#length + extra;
    if (needed <= this.#buffer.length) return;
    let capacity = this.#buffer.length * 2;
    while (capacity < needed) capacity *= 2;
    const next = Buffer.allocUnsafe(capacity);
    this.#buffer.copy(next, 0, 0, this.#length);
    this.#buffer = next;
  }
}

// ---- Decoding ----

/** Thrown by the decoder for a payload whose CRC matched but whose content is not valid. */
export class MalformedRecordError extends Error {
  override readonly name = 'MalformedRecordError';
}

/**
 * Receives decoded records. A snapshot entry arrives as a `set` (created at `createdAtMs`)
 * followed, when the key was changed after its creation, by a `ttl` mutation at `updatedAtMs`
 * that restores the update time: both are plain store mutations, so replay needs no other path.
 */
export type RecordSink = (mutation: Mutation) => void;

/** Receives the kept answers of idempotent requests (see {@link RecordEncoder.kept}); without one they are skipped. */
export type KeptSink = (record: KeptRecord) => void;

/**
 * Checks whether `file[0, available)` starts with a valid header.
 * @returns `'ok'`, `'short'` (a prefix of a header: a file torn while it was created) or `'bad'`.
 */
export function checkHeader(bytes: Buffer, available: number): AofVersion | 'short' | 'bad' {
  const compared = Math.min(available, AOF_MAGIC.length);
  if (bytes.compare(AOF_MAGIC, 0, compared, 0, compared) !== 0) return 'bad';
  if (available < AOF_HEADER_BYTES) return 'short';
  const version = bytes.readUInt32LE(AOF_MAGIC.length);
  return version === 1 || version === 2 ? version : 'bad';
}

/** Outcome of scanning a buffer of records. */
export interface ScanResult {
  /** Offset just after the last whole, valid record. */
  end: number;
  /** Number of records decoded. */
  records: number;
  /** Why the scan stopped before `limit`: `'partial'` (the next record runs past `limit`) or `'bad'`. */
  stop: 'done' | 'partial' | 'bad';
}

/**
 * Decodes the records in `buffer[start, limit)` and hands each to `sink`, stopping at the first
 * record that is incomplete (`partial`) or fails its length bound or CRC (`bad`).
 */
export function scanRecords(
  buffer: Buffer,
  start: number,
  limit: number,
  sink: RecordSink,
  version: AofVersion = AOF_VERSION,
  keptSink?: KeptSink,
): ScanResult {
  let offset = start;
  let records = 0;
  while (offset < limit) {
    if (limit - offset < 4) return { end: offset, records, stop: 'partial' };
    const payloadBytes = buffer.readUInt32LE(offset);
    if (payloadBytes < 1 || payloadBytes > MAX_PAYLOAD_BYTES) return { end: offset, records, stop: 'bad' };
    const crcAt = offset + 4 + payloadBytes;
    if (crcAt + 4 > limit) return { end: offset, records, stop: 'partial' };
    if (crc32Range(buffer, offset, crcAt) !== buffer.readUInt32LE(crcAt)) return { end: offset, records, stop: 'bad' };
    try {
      decodePayload(buffer, offset + 4, crcAt, sink, version, keptSink);
    } catch (error) {
      if (error instanceof MalformedRecordError || error instanceof RangeError) return { end: offset, records, stop: 'bad' };
      throw error;
    }
    records++;
    offset = crcAt + 4;
  }
  return { end: offset, records, stop: 'done' };
}

/** The CRC-32 (IEEE) table, as zlib uses. */
const CRC_TABLE = new Int32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  CRC_TABLE[n] = c;
}

/**
 * zlib's CRC-32 of `buffer[start, end)`. zlib.crc32 takes no offsets, and a view per record
 * costs more than the checksum of a small record: this loop halves the checksum's share of replay.
 */
function crc32Range(buffer: Buffer, start: number, end: number): number {
  let crc = -1;
  for (let i = start; i < end; i++) crc = CRC_TABLE[(crc ^ buffer[i]!) & 0xff]! ^ (crc >>> 8);
  return (crc ^ -1) >>> 0;
}

/** Decodes one payload `buffer[start, end)` into mutations for `sink`. */
function decodePayload(buffer: Buffer, start: number, end: number, sink: RecordSink, version: AofVersion, keptSink: KeptSink | undefined): void {
  const reader = new PayloadReader(buffer, start + 1, end);
  const op = buffer[start] as Op;
  const revision = version === 1 ? 0 : reader.f64();
  switch (op) {
    case Op.Txn: {
      if (version === 1) break;
      const count = reader.varint();
      if (count > end - start) throw new MalformedRecordError('bad transaction length');
      const mutations: KeyMutation[] = [];
      for (let i = 0; i < count; i++) {
        const from = reader.skip(reader.u32());
        mutations.push(decodeKey(buffer[from] as Op, new PayloadReader(buffer, from + 1, reader.offset), revision));
      }
      reader.finish();
      sink({ type: 'txn', revision, key: '', mutations });
      return;
    }
    case Op.Flush:
    case Op.Revision:
      if (version === 1) break;
      reader.finish();
      sink({ type: op === Op.Flush ? 'flush' : 'revision', revision, key: '' });
      return;
    case Op.EntryString:
    case Op.EntryList: {
      const expiresAtMs = reader.f64();
      const createdAtMs = reader.f64();
      const updatedAtMs = reader.f64();
      const key = reader.string();
      const value = op === Op.EntryString ? reader.string() : reader.list();
      reader.finish();
      sink({ type: 'set', revision, key, value, expiresAtMs, atMs: createdAtMs });
      if (updatedAtMs !== createdAtMs) sink({ type: 'ttl', revision, key, expiresAtMs, atMs: updatedAtMs });
      return;
    }
    case Op.Kept: {
      if (version === 1) break;
      const expiresAtMs = reader.f64();
      const scope = reader.string();
      const key = reader.string();
      const fingerprint = reader.string();
      const status = reader.varint();
      const body = reader.string();
      const count = reader.varint();
      if (count > end - start) throw new MalformedRecordError('bad header count');
      const headers: Record<string, string> = {};
      for (let i = 0; i < count; i++) {
        const name = reader.string();
        headers[name] = reader.string();
      }
      reader.finish();
      if (status < 100 || status > 599) throw new MalformedRecordError('bad status');
      keptSink?.({ scope, key, fingerprint, answer: { status, body, headers }, expiresAtMs });
      return;
    }
    default:
      sink(decodeKey(op, reader, revision));
      return;
  }
  throw new MalformedRecordError(`record type ${String(op)} in a log of format ${version}`);
}

/** Decodes the fields of one key's mutation of type `op` (the whole rest of `reader`). */
function decodeKey(op: Op, reader: PayloadReader, revision: number): KeyMutation {
  let mutation: KeyMutation;
  switch (op) {
    case Op.SetString:
    case Op.SetList:
    case Op.UpdateString:
    case Op.UpdateList: {
      const expiresAtMs = reader.f64();
      const atMs = reader.f64();
      const key = reader.string();
      const value = op === Op.SetString || op === Op.UpdateString ? reader.string() : reader.list();
      mutation = { type: op === Op.SetString || op === Op.SetList ? 'set' : 'update', revision, key, value, expiresAtMs, atMs };
      break;
    }
    case Op.Push: {
      const expiresAtMs = reader.f64();
      const atMs = reader.f64();
      const key = reader.string();
      const values = reader.list();
      mutation = { type: 'push', revision, key, values, expiresAtMs, atMs };
      break;
    }
    case Op.Pop: {
      const atMs = reader.f64();
      const key = reader.string();
      mutation = { type: 'pop', revision, key, atMs };
      break;
    }
    case Op.Remove:
    case Op.Expired:
      mutation = { type: op === Op.Remove ? 'remove' : 'expired', revision, key: reader.string() };
      break;
    case Op.Ttl: {
      const expiresAtMs = reader.f64();
      const atMs = reader.f64();
      const key = reader.string();
      mutation = { type: 'ttl', revision, key, expiresAtMs, atMs };
      break;
    }
    default:
      throw new MalformedRecordError(`unknown record type ${String(op)}`);
  }
  reader.finish();
  return mutation;
}

/**
 * Buffer's own UTF-8 decoder, which `toString('utf8', start, end)` reaches after argument checks
 * that the bounds checks here already make: calling it directly saves a tenth of the replay time.
 */
interface FastUtf8Buffer extends Buffer {
  utf8Slice(start: number, end: number): string;
}

/** Bounds-checked reads over one payload. */
class PayloadReader {
  readonly #buffer: Buffer;
  #offset: number;
  readonly #end: number;

  constructor(buffer: Buffer, start: number, end: number) {
    this.#buffer = buffer;
    this.#offset = start;
    this.#end = end;
  }

  f64(): number {
    this.#need(8);
    const value = this.#buffer.readDoubleLE(this.#offset);
    this.#offset += 8;
    if (!Number.isFinite(value) || value < 0) throw new MalformedRecordError('bad time');
    return value;
  }

  /** Where the next field starts. */
  get offset(): number {
    return this.#offset;
  }

  u32(): number {
    this.#need(4);
    const value = this.#buffer.readUInt32LE(this.#offset);
    this.#offset += 4;
    return value;
  }

  /** Skips `bytes` bytes. @returns where they start. */
  skip(bytes: number): number {
    this.#need(bytes);
    const start = this.#offset;
    this.#offset += bytes;
    return start;
  }

  varint(): number {
    let value = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      this.#need(1);
      const byte = this.#buffer[this.#offset++]!;
      value += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return value;
    }
    throw new MalformedRecordError('bad length');
  }

  string(): string {
    const bytes = this.varint();
    this.#need(bytes);
    const start = this.#offset;
    this.#offset += bytes;
    return (this.#buffer as FastUtf8Buffer).utf8Slice(start, this.#offset);
  }

  list(): string[] {
    const count = this.varint();
    // Each element takes at least one byte: a larger count can only be damage.
    if (count > this.#end - this.#offset) throw new MalformedRecordError('bad list length');
    const values = new Array<string>(count);
    for (let i = 0; i < count; i++) values[i] = this.string();
    return values;
  }

  /** Checks that the whole payload was consumed. */
  finish(): void {
    if (this.#offset !== this.#end) throw new MalformedRecordError('trailing bytes in record');
  }

  #need(bytes: number): void {
    if (this.#offset + bytes > this.#end) throw new MalformedRecordError('record shorter than its fields');
  }
}
