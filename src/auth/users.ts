/**
 * The user directory: accounts with a role, key patterns and a password hash, looked up by name
 * or id. Records are immutable; a change replaces the record. Validation of names and passwords
 * lives here too, so the HTTP schemas and the bootstrap admin follow the same rules.
 */
import type { Role } from '@memkv/client/protocol';
import { ROLES } from '@memkv/client/protocol';
import { MemkvError } from '../errors.js';
import { compileKeyPatterns, describeBadKeyPatterns, type KeyMatcher } from './key-patterns.js';

/** A stored account. `passwordHash` is never logged and never leaves the server. */
export interface UserRecord {
  /** Random id: tokens name it, so a user deleted and created again does not inherit old tokens. */
  readonly id: string;
  readonly username: string;
  readonly role: Role;
  /** Key patterns (`*` = all keys); see key-patterns.ts. */
  readonly keys: readonly string[];
  readonly passwordHash: string;
  readonly createdAtMs: number;
}

/** User names: 1 to 64 of letters, digits, `.`, `_`, `@`, `-`. */
export const USERNAME_PATTERN = '^[A-Za-z0-9._@-]{1,64}$';
const USERNAME_REGEX = new RegExp(USERNAME_PATTERN);
/** Shortest password accepted when one is set. */
export const MIN_PASSWORD_LENGTH = 8;
/** Longest password accepted, in characters. */
export const MAX_PASSWORD_LENGTH = 1024;

/** @returns what is wrong with a user name, or `undefined`. */
export function describeBadUsername(username: string): string | undefined {
  return USERNAME_REGEX.test(username) ? undefined : 'username must be 1 to 64 letters, digits, ".", "_", "@" or "-"';
}

/** @returns what is wrong with a new password, or `undefined`. */
export function describeBadPassword(password: string): string | undefined {
  const length = [...password].length;
  return length >= MIN_PASSWORD_LENGTH && length <= MAX_PASSWORD_LENGTH
    ? undefined
    : `password must be ${MIN_PASSWORD_LENGTH} to ${MAX_PASSWORD_LENGTH} characters`;
}

/** True when `value` is one of the roles. */
export function isRole(value: unknown): value is Role {
  return (ROLES as readonly unknown[]).includes(value);
}

/** @returns what is wrong with a role, or `undefined`. */
export function describeBadRole(role: unknown): string | undefined {
  return isRole(role) ? undefined : `role must be one of ${ROLES.join(', ')}`;
}

/** Throws `invalid_request` with the first problem among the fields of a new user. */
export function checkNewUser(fields: { username: string; password?: string; role: unknown; keys: readonly string[] }): void {
  const problem =
    describeBadUsername(fields.username) ??
    (fields.password === undefined ? undefined : describeBadPassword(fields.password)) ??
    describeBadRole(fields.role) ??
    describeBadKeyPatterns(fields.keys);
  if (problem !== undefined) throw new MemkvError('invalid_request', problem);
}

/** The accounts, by name and by id, with each one's compiled key matcher. */
export class UserDirectory {
  readonly #byName = new Map<string, UserRecord>();
  readonly #byId = new Map<string, UserRecord>();
  readonly #matchers = new Map<string, KeyMatcher | null>();

  constructor(records: readonly UserRecord[] = []) {
    for (const record of records) this.add(record);
  }

  byName(username: string): UserRecord | undefined {
    return this.#byName.get(username);
  }

  byId(id: string): UserRecord | undefined {
    return this.#byId.get(id);
  }

  /** Key matcher of a user: `null` = every key. */
  matcher(id: string): KeyMatcher | null {
    return this.#matchers.get(id) ?? null;
  }

  /** Every account, sorted by name. */
  list(): UserRecord[] {
    return [...this.#byName.values()].sort((a, b) => (a.username < b.username ? -1 : a.username > b.username ? 1 : 0));
  }

  /** Adds an account. @throws MemkvError `user_exists` when the name is taken. */
  add(record: UserRecord): void {
    if (this.#byName.has(record.username)) throw new MemkvError('user_exists', `user ${JSON.stringify(record.username)} already exists`);
    this.#put(record);
  }

  /** Replaces the account with the same id and name. */
  replace(record: UserRecord): void {
    const old = this.#byId.get(record.id);
    if (old === undefined || old.username !== record.username) throw new Error(`no user ${record.id} named ${record.username}`);
    this.#put(record);
  }

  /** Removes an account by name; returns it, or `undefined` when there was none. */
  remove(username: string): UserRecord | undefined {
    const record = this.#byName.get(username);
    if (record === undefined) return undefined;
    this.#byName.delete(username);
    this.#byId.delete(record.id);
    this.#matchers.delete(record.id);
    return record;
  }

  #put(record: UserRecord): void {
    this.#byName.set(record.username, record);
    this.#byId.set(record.id, record);
    this.#matchers.set(record.id, compileKeyPatterns(record.keys));
  }
}
