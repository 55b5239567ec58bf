/**
 * What a command is: one entry of the command table (table.ts), transport-neutral. Each front
 * door (Fastify's routes, the fast path, the raw front below it) and the OpenAPI document are
 * derived from these entries; none of them knows a command by name.
 */
import type { TSchema } from 'typebox';
import type { MaybePromise, Preconditions, Storage } from '../storage/storage.js';

/** What a caller needs to run a command when authentication is on. */
export type CommandAccess = 'read' | 'write' | 'admin';

/** The server's limits that commands apply (from the configuration). */
export interface CommandLimits {
  /** Most ops, and most checks, in one transaction (MAX_TXN_OPS). */
  maxTxnOps: number;
}

/** The inputs of a command, as every door hands them over after its own parsing. */
export interface CommandArgs<Body = unknown, Query = unknown> {
  /** The key the command touches: the `:key` path segment, or the body's `key` field. */
  key: string;
  /** The request body, validated against {@link Command.body} (undefined when it takes none). */
  body: Body;
  /** The query parameters, validated against {@link Command.query} (undefined when it takes none). */
  query: Query;
  /** The request asked for the minimal answer (`Prefer: return=minimal`), on commands that offer one. */
  minimal: boolean;
  /**
   * A write's preconditions on the key's version (If-Match, If-None-Match, or their body fields:
   * see preconditions.ts); undefined when it has none.
   */
  preconditions?: Preconditions | undefined;
}

/** One data command. `Result` is a plain JSON value: the body of the 200 answer. */
export interface Command<Body = unknown, Query = unknown, Result = unknown> {
  /** Stable name, as in logs and the fast path's list (`get`, `set`, `push` …). */
  readonly name: string;
  readonly method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /**
   * Path under the API base (`/api/v1`): a literal (`/set`), the key alone (`/:key`) or the key
   * and a literal suffix (`/:key/push`).
   */
  readonly path: string;
  readonly access: CommandAccess;
  /**
   * Where the key comes from: the `:key` path segment or the body's `key` field; `none` for a
   * command of several keys, which names them in {@link Command.keys}.
   */
  readonly keyFrom: 'params' | 'body' | 'none';
  /** The keys a command of several keys touches, with the right each needs (checked once the body is valid). */
  readonly keys?: (body: Body) => readonly { key: string; access: 'read' | 'write' }[];
  /**
   * Whether it changes data: its answer then waits for the log (see execute.ts), and it takes
   * preconditions (If-Match …).
   */
  readonly writes: boolean;
  /** Whether it creates keys, and so takes `If-None-Match: *` (set). */
  readonly creates?: boolean;
  /** Whether it honours `Prefer: return=minimal` (see {@link CommandArgs.minimal}). */
  readonly minimal?: boolean;
  readonly summary: string;
  readonly description?: string;
  /** Schema of the JSON body; absent when the command takes none. */
  readonly body?: TSchema;
  /**
   * The fast check of the body for the fast path: true only for bodies the schema accepts (a
   * subset is fine: whatever it refuses is validated by the schema instead). Required with `body`.
   */
  readonly fastBody?: (body: Record<string, unknown>) => boolean;
  /** Schema of the query string; absent when the command takes none (the fast path serves only those). */
  readonly query?: TSchema;
  /** Schema of the 200 answer. */
  readonly answer: TSchema;
  /** Error statuses it can answer, for the OpenAPI document (401/403 are added with auth). */
  readonly errors: readonly number[];
  /** Runs the command: the 200 answer's body, or a thrown (rejected) MemkvError. */
  run(storage: Storage, args: CommandArgs<Body, Query>, limits: CommandLimits): MaybePromise<Result>;
}

/** Declares a command, typing `run`'s arguments; the entry is used as is. */
export function defineCommand<Body = undefined, Query = undefined, Result = unknown>(
  command: Command<Body, Query, Result>,
): Command<Body, Query, Result> {
  if (command.body !== undefined && command.fastBody === undefined) {
    throw new TypeError(`command ${command.name}: a body schema needs its fastBody check`);
  }
  return command;
}
