/**
 * Replay of the append-only log at start: reads the file in chunks (yielding to the event loop
 * between them, so that the health server can answer meanwhile), hands every record to a sink,
 * and classifies what it finds at the end: a clean end (possibly followed by zeros: space written
 * in advance under PERSISTENCE_FSYNC=always, or allocated for an append that never reached the
 * disk), a torn tail (a crash in the middle of an append: forgiven), or damage before the end
 * (refused unless the operator asks to load up to it).
 */
import { open, type FileHandle } from 'node:fs/promises';
import { PersistenceError } from '../errors.js';
import { AOF_HEADER_BYTES, type AofVersion, FRAME_OVERHEAD_BYTES, MAX_PAYLOAD_BYTES, checkHeader, scanRecords, type KeptSink, type RecordSink } from './aof-format.js';

export interface ReplayOptions {
  /**
   * Damage before the end of the file: `false` (default) refuses with a PersistenceError naming
   * the file and offset; `true` loads the records before the damage and reports the rest as dropped.
   */
  loadUpToDamage?: boolean;
  /** Size of the read buffer in bytes; default 1 MiB (grown for a larger record). */
  chunkBytes?: number;
  /**
   * Called with the bytes of the file read so far and the file's size (both in bytes) once the
   * size is known, then after each chunk read: at most once per chunk, so it costs replay
   * nothing measurable. An error it throws stops the replay and is rethrown as is (the start is
   * aborted). Default none.
   */
  onProgress?: (bytesRead: number, totalBytes: number) => void;
  /** Receives the kept answers of idempotent requests; default none (they are skipped). */
  onKept?: KeptSink;
}

/** What replay found. */
export interface ReplayResult {
  /** `missing`: no file yet; `clean`; `torn`: an incomplete last record; `damaged`: loaded up to damage. */
  outcome: 'missing' | 'clean' | 'torn' | 'damaged';
  /** Size of the file, in bytes. */
  fileBytes: number;
  /** Offset just after the last good record: the log must continue from here. 0 when even the header is torn. */
  validBytes: number;
  /** Bytes after `validBytes` that were not loaded: a torn record or damage (zeros after them not counted). */
  droppedBytes: number;
  /** Zero bytes at the end of the file, after the last record or the torn one: unused space. */
  unusedBytes: number;
  /** Records replayed. */
  records: number;
  /** The format of the file (see aof-format.ts), when it has a whole header. */
  formatVersion?: AofVersion;
}

const DEFAULT_CHUNK_BYTES = 1024 * 1024;

/**
 * Replays the log at `path` into `sink`.
 * @throws PersistenceError when the file is not a memkv log, cannot be read, or is damaged
 *   before its end (unless `loadUpToDamage`).
 */
export async function replayAof(path: string, sink: RecordSink, options: ReplayOptions = {}): Promise<ReplayResult> {
  const { loadUpToDamage = false, chunkBytes = DEFAULT_CHUNK_BYTES, onProgress, onKept } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') throw new TypeError('onProgress must be a function');
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      return { outcome: 'missing', fileBytes: 0, validBytes: 0, droppedBytes: 0, unusedBytes: 0, records: 0 };
    }
    throw new PersistenceError(path, `cannot open the log ${path}: ${(error as Error).message}`, { cause: error });
  }
  // What onProgress throws (the start being aborted) stops the replay and reaches the caller as is.
  let stoppedBy: { error: unknown } | undefined;
  const progress =
    onProgress &&
    ((bytesRead: number, totalBytes: number): void => {
      try {
        onProgress(bytesRead, totalBytes);
      } catch (error) {
        stoppedBy = { error };
        throw error;
      }
    });
  try {
    return await replayOpen(handle, path, sink, loadUpToDamage, chunkBytes, progress, onKept);
  } catch (error) {
    if (stoppedBy !== undefined) throw stoppedBy.error;
    if (error instanceof PersistenceError) throw error;
    throw new PersistenceError(path, `cannot read the log ${path}: ${(error as Error).message}`, { cause: error });
  } finally {
    await handle.close();
  }
}

async function replayOpen(
  handle: FileHandle,
  path: string,
  sink: RecordSink,
  loadUpToDamage: boolean,
  chunkBytes: number,
  onProgress: ReplayOptions['onProgress'],
  onKept: KeptSink | undefined,
): Promise<ReplayResult> {
  const fileBytes = (await handle.stat()).size;
  onProgress?.(0, fileBytes);
  let buffer = Buffer.allocUnsafe(Math.max(AOF_HEADER_BYTES, Math.min(chunkBytes, fileBytes)));
  /** File offset of buffer[0]. */
  let base = 0;
  /** Bytes of buffer holding file data. */
  let filled = 0;
  let records = 0;
  const fill = async (): Promise<void> => {
    while (filled < buffer.length && base + filled < fileBytes) {
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, base + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    onProgress?.(base + filled, fileBytes);
  };
  const result = (outcome: ReplayResult['outcome'], validBytes: number, unusedBytes = 0): ReplayResult => ({
    outcome,
    fileBytes,
    validBytes,
    droppedBytes: fileBytes - validBytes - unusedBytes,
    unusedBytes,
    records,
    ...(formatVersion === undefined ? {} : { formatVersion }),
  });

  let formatVersion: AofVersion | undefined;
  await fill();
  const header = checkHeader(buffer, filled);
  if (header === 'bad') {
    throw new PersistenceError(path, `${path} is not a memkv log (unknown header): move it away or point DB_PATH elsewhere`);
  }
  if (header === 'short') return result(fileBytes === 0 ? 'clean' : 'torn', 0);
  formatVersion = header;

  let position = AOF_HEADER_BYTES;
  for (;;) {
    const scan = scanRecords(buffer, position, filled, sink, header, onKept);
    records += scan.records;
    position = scan.end;
    const offset = base + position;
    if (scan.stop === 'done' && base + filled >= fileBytes) return result('clean', offset);
    if (scan.stop === 'bad') {
      const zerosFrom = await zeroTailStart(handle, fileBytes);
      if (zerosFrom <= offset) return result('clean', offset, fileBytes - offset);
      if (isTornRecord(buffer, position, filled, offset, zerosFrom)) return result('torn', offset, fileBytes - zerosFrom);
      if (loadUpToDamage) return result('damaged', offset, fileBytes - zerosFrom);
      throw new PersistenceError(
        path,
        `the log ${path} is damaged at byte offset ${offset} of ${fileBytes} (a record fails its checksum): ` +
          `nothing was loaded. Restore a backup, or start with PERSISTENCE_LOAD_DAMAGED=true to load the ` +
          `${records} records before the damage (the damaged file is kept as a copy)`,
      );
    }
    if (base + filled >= fileBytes) return result('torn', offset); // an incomplete record at the end
    // Keep the incomplete record, make room for it (it may be larger than the buffer) and read on.
    buffer.copy(buffer, 0, position, filled);
    base += position;
    filled -= position;
    position = 0;
    const needed = filled >= 4 ? buffer.readUInt32LE(0) + FRAME_OVERHEAD_BYTES : 0;
    if (needed > buffer.length) {
      const grown = Buffer.allocUnsafe(needed);
      buffer.copy(grown, 0, 0, filled);
      buffer = grown;
    }
    await fill();
  }
}

/**
 * A bad record (at file offset `offset`, `buffer[position]`) is a torn tail when it is the last
 * thing written: its frame ends where the zeros at the end of the file start (`zerosFrom`, the
 * file's size when there are none), or its length field itself reaches into them.
 */
function isTornRecord(buffer: Buffer, position: number, filled: number, offset: number, zerosFrom: number): boolean {
  if (filled - position < 4) return true; // not even a whole length field before the end
  const payloadBytes = buffer.readUInt32LE(position);
  if (payloadBytes > MAX_PAYLOAD_BYTES) return false;
  return offset + payloadBytes + FRAME_OVERHEAD_BYTES >= zerosFrom;
}

/** Offset where the run of zero bytes that ends the file starts (the file's size when it ends otherwise). */
async function zeroTailStart(handle: FileHandle, fileBytes: number): Promise<number> {
  const probe = Buffer.allocUnsafe(64 * 1024);
  for (let end = fileBytes; end > 0; ) {
    const start = Math.max(0, end - probe.length);
    const { bytesRead } = await handle.read(probe, 0, end - start, start);
    for (let i = bytesRead - 1; i >= 0; i--) if (probe[i] !== 0) return start + i + 1;
    end = start;
  }
  return 0;
}
