/**
 * Listing cursors: the backend's own cursor text (where a key listing continues), signed with a
 * key, so that a client can hand back only cursors a server issued (for the same prefix). An
 * edited cursor or one for another prefix is refused; so is one from before a restart unless the
 * key is shared (STORAGE=redis: every front signs with the same key, so any front continues a
 * listing another began).
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of HMAC-SHA256 kept in a cursor: 128 bits, as unguessable as a random token. */
const MAC_BYTES = 16;
const CURSOR_PATTERN = /^([A-Za-z0-9_-]{1,512})\.([A-Za-z0-9_-]{22})$/;

/** Issues and checks listing cursors. */
export interface CursorCodec {
  /** The signed cursor for continuing a listing of `prefix` at the backend's cursor `position` (`A-Z a-z 0-9 _ -`). */
  encode(position: string, prefix: string): string;
  /** The backend's cursor in `cursor`, or `undefined` when this codec did not issue it for `prefix`. */
  decode(cursor: string, prefix: string): string | undefined;
}

/** Creates a codec with a fresh random key, or with `secret` when several processes must agree. */
export function createCursorCodec(secret: Buffer | string = randomBytes(32)): CursorCodec {
  const mac = (payload: string, prefix: string): Buffer =>
    createHmac('sha256', secret).update(payload).update('\0').update(prefix).digest().subarray(0, MAC_BYTES);
  return {
    encode(position, prefix) {
      return `${position}.${mac(position, prefix).toString('base64url')}`;
    },
    decode(cursor, prefix) {
      const match = CURSOR_PATTERN.exec(cursor);
      if (match === null) return undefined;
      const given = Buffer.from(match[2]!, 'base64url');
      if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(match[1]!, prefix))) return undefined;
      return match[1]!;
    },
  };
}
