/**
 * Password hashing: scrypt from node:crypto (memory-hard), a random salt per hash, self-describing
 * hashes (the parameters travel with the hash, so changing them never locks anyone out) and a
 * constant-time comparison.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** scrypt cost parameters. Memory per hash is about 128 × cost × blockSize bytes. */
export interface ScryptParams {
  /** CPU/memory cost N: a power of two from 2 to 2^20. */
  cost: number;
  /** Block size r (1 to 32). */
  blockSize: number;
  /** Parallelization p (1 to 16). */
  parallelization: number;
}

/**
 * Default cost: N = 2^15, r = 8, p = 3, one of the OWASP-recommended scrypt settings
 * (32 MiB per hash, compute equal to N = 2^17 with p = 1, at a quarter of its memory).
 */
export const SCRYPT_DEFAULTS: Readonly<ScryptParams> = Object.freeze({ cost: 2 ** 15, blockSize: 8, parallelization: 3 });

const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PREFIX = 'scrypt';
/** Largest N accepted, from options or from a stored hash (128 MiB per hash at r = 8). */
const MAX_COST = 2 ** 20;

/**
 * Checks scrypt parameters and fills in the defaults.
 * @throws TypeError naming the parameter and what it accepts.
 */
export function checkScryptParams(params: Partial<ScryptParams> = {}): ScryptParams {
  const { cost = SCRYPT_DEFAULTS.cost, blockSize = SCRYPT_DEFAULTS.blockSize, parallelization = SCRYPT_DEFAULTS.parallelization } = params;
  if (!Number.isSafeInteger(cost) || cost < 2 || cost > MAX_COST || (cost & (cost - 1)) !== 0) {
    throw new TypeError(`scrypt cost must be a power of two from 2 to ${MAX_COST}; got ${cost}`);
  }
  if (!Number.isSafeInteger(blockSize) || blockSize < 1 || blockSize > 32) {
    throw new TypeError(`scrypt blockSize must be an integer from 1 to 32; got ${blockSize}`);
  }
  if (!Number.isSafeInteger(parallelization) || parallelization < 1 || parallelization > 16) {
    throw new TypeError(`scrypt parallelization must be an integer from 1 to 16; got ${parallelization}`);
  }
  return { cost, blockSize, parallelization };
}

function derive(password: string, salt: Buffer, params: ScryptParams): Promise<Buffer> {
  const { cost: N, blockSize: r, parallelization: p } = params;
  return new Promise((resolve, reject) => {
    // maxmem: Node refuses when 128·N·r exceeds it; leave headroom over the exact need.
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r }, (error, key) =>
      error === null ? resolve(key) : reject(error),
    );
  });
}

/**
 * Hashes a password with a fresh random salt.
 * @returns `scrypt$N$r$p$salt$hash` (salt and hash in base64url); safe to store, never to log.
 */
export async function hashPassword(password: string, params: ScryptParams = SCRYPT_DEFAULTS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params);
  return [PREFIX, params.cost, params.blockSize, params.parallelization, salt.toString('base64url'), key.toString('base64url')].join('$');
}

/** Reads the parameters of a stored hash; `undefined` when it is not one of ours. */
function parseHash(encoded: string): { params: ScryptParams; salt: Buffer; key: Buffer } | undefined {
  const parts = encoded.split('$');
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined;
  const [cost, blockSize, parallelization] = parts.slice(1, 4).map(Number) as [number, number, number];
  let params: ScryptParams;
  try {
    params = checkScryptParams({ cost, blockSize, parallelization });
  } catch {
    return undefined;
  }
  const salt = Buffer.from(parts[4]!, 'base64url');
  const key = Buffer.from(parts[5]!, 'base64url');
  if (salt.length < 8 || key.length !== KEY_BYTES) return undefined;
  return { params, salt, key };
}

/** True when `encoded` is a hash {@link hashPassword} could have made. */
export function isPasswordHash(encoded: string): boolean {
  return parseHash(encoded) !== undefined;
}

/**
 * Checks a password against a stored hash, in time that does not depend on where they differ.
 * A malformed hash never matches.
 */
export async function verifyPassword(password: string, encoded: string): Promise<boolean> {
  const parsed = parseHash(encoded);
  if (parsed === undefined) return false;
  const key = await derive(password, parsed.salt, parsed.params);
  return timingSafeEqual(key, parsed.key);
}
