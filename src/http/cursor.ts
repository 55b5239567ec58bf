/**
 * Listing cursors: the slot a key listing continues from, signed with a key that lives only in
 * this process, so that a client can hand back only cursors the server issued (for the same
 * prefix). A cursor from before a restart, an edited one or one for another prefix is refused.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** Bytes of HMAC-SHA256 kept in a cursor: 128 bits, as unguessable as a random token. */
const MAC_BYTES = 16;
const CURSOR_PATTERN = /^([0-9a-z]{1,11})\.([A-Za-z0-9_-]{22})$/;

/** Issues and checks listing cursors. */
export interface CursorCodec {
  /** The cursor for continuing a listing of `prefix` at `slot`. */
  encode(slot: number, prefix: string): string;
  /** The slot in `cursor`, or `undefined` when this codec did not issue it for `prefix`. */
  decode(cursor: string, prefix: string): number | undefined;
}

/** Creates a codec with a fresh random key (`secret` only for tests that need two codecs to agree). */
export function createCursorCodec(secret: Buffer = randomBytes(32)): CursorCodec {
  const mac = (payload: string, prefix: string): Buffer =>
    createHmac('sha256', secret).update(payload).update('\0').update(prefix).digest().subarray(0, MAC_BYTES);
  return {
    encode(slot, prefix) {
      const payload = slot.toString(36);
      return `${payload}.${mac(payload, prefix).toString('base64url')}`;
    },
    decode(cursor, prefix) {
      const match = CURSOR_PATTERN.exec(cursor);
      if (match === null) return undefined;
      const given = Buffer.from(match[2]!, 'base64url');
      if (given.length !== MAC_BYTES || !timingSafeEqual(given, mac(match[1]!, prefix))) return undefined;
      const slot = parseInt(match[1]!, 36);
      return Number.isSafeInteger(slot) ? slot : undefined;
    },
  };
}
