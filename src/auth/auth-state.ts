/**
 * The durable auth state, users and open sessions, and its JSON form. Kept apart from the
 * keyspace: no data route can read or change it. A file that does not parse is refused with a
 * message, never silently replaced, since that would drop every account.
 */
import type { Session } from './sessions.js';
import type { UserRecord } from './users.js';
import { checkNewUser } from './users.js';
import { isPasswordHash } from './passwords.js';

/** Everything the auth service needs to resume after a restart. */
export interface AuthState {
  users: UserRecord[];
  sessions: Session[];
}

/**
 * Auth state kept where several processes share it (STORAGE=redis: in Redis), with a version
 * that every save increases, so that a process knows when to reload and a save based on an old
 * version is refused instead of undoing another process's change.
 */
export interface SharedAuthStore {
  /** The version of the stored state; 0 while none is stored. */
  version(): Promise<number>;
  /** The stored state (undefined while none is) and its version. */
  load(): Promise<{ state: AuthState | undefined; version: number }>;
  /** Stores `state` if the stored version is still `expectedVersion`; the new version, or undefined if it is not. */
  save(state: AuthState, expectedVersion: number): Promise<number | undefined>;
}

/** The state with the generated token secret (base64url), when the server generated one. */
export interface AuthStateDocument extends AuthState {
  secret?: string;
}

/** Version written in the document; a newer one is refused. */
export const AUTH_STATE_VERSION = 1;

/** Serializes the state (and a generated secret) as JSON. */
export function serializeAuthState({ users, sessions, secret }: AuthStateDocument): string {
  const document = { version: AUTH_STATE_VERSION, ...(secret === undefined ? {} : { secret }), users, sessions };
  return `${JSON.stringify(document, null, 1)}\n`;
}

/**
 * Parses a document written by {@link serializeAuthState}. Sessions of unknown users are dropped.
 * @throws Error saying what is wrong, for the operator.
 */
export function parseAuthState(text: string): AuthStateDocument {
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new Error(`not valid JSON (${(error as Error).message})`);
  }
  if (!isObject(document)) throw new Error('not a JSON object');
  if (document.version !== AUTH_STATE_VERSION) {
    throw new Error(`version ${JSON.stringify(document.version)} is not supported (expected ${AUTH_STATE_VERSION})`);
  }
  const { secret, users, sessions } = document;
  if (secret !== undefined && (typeof secret !== 'string' || !/^[A-Za-z0-9_-]{43,}$/.test(secret))) {
    throw new Error('secret must be base64url text of at least 32 bytes');
  }
  if (!Array.isArray(users) || !Array.isArray(sessions)) throw new Error('users and sessions must be arrays');

  const parsedUsers = users.map((user, index) => parseUser(user, index));
  const ids = new Set(parsedUsers.map((user) => user.id));
  if (ids.size !== parsedUsers.length || new Set(parsedUsers.map((u) => u.username)).size !== parsedUsers.length) {
    throw new Error('two users share an id or a name');
  }
  const parsedSessions = sessions.map((session, index) => parseSession(session, index)).filter((s) => ids.has(s.userId));
  return { ...(secret === undefined ? {} : { secret: secret as string }), users: parsedUsers, sessions: parsedSessions };
}

function parseUser(value: unknown, index: number): UserRecord {
  const where = `users[${index}]`;
  if (!isObject(value)) throw new Error(`${where} is not an object`);
  const { id, username, role, keys, passwordHash, createdAtMs } = value;
  if (typeof id !== 'string' || id.length === 0) throw new Error(`${where}.id must be a non-empty string`);
  if (typeof username !== 'string') throw new Error(`${where}.username must be a string`);
  if (!Array.isArray(keys) || !keys.every((key) => typeof key === 'string')) throw new Error(`${where}.keys must be an array of strings`);
  try {
    checkNewUser({ username, role, keys });
  } catch (error) {
    throw new Error(`${where}: ${(error as Error).message}`);
  }
  if (typeof passwordHash !== 'string' || !isPasswordHash(passwordHash)) throw new Error(`${where}.passwordHash is not a scrypt hash`);
  if (!isTime(createdAtMs)) throw new Error(`${where}.createdAtMs must be epoch milliseconds`);
  return { id, username, role: role as UserRecord['role'], keys: [...keys] as string[], passwordHash, createdAtMs };
}

function parseSession(value: unknown, index: number): Session {
  const where = `sessions[${index}]`;
  if (!isObject(value)) throw new Error(`${where} is not an object`);
  const { id, userId, refreshJti, expiresAtMs, createdAtMs } = value;
  if (typeof id !== 'string' || typeof userId !== 'string' || typeof refreshJti !== 'string') {
    throw new Error(`${where}: id, userId and refreshJti must be strings`);
  }
  if (!isTime(expiresAtMs) || !isTime(createdAtMs)) throw new Error(`${where}: expiresAtMs and createdAtMs must be epoch milliseconds`);
  return { id, userId, refreshJti, expiresAtMs, createdAtMs };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isTime(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}
