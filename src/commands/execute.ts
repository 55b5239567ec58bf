/**
 * execute(): what every door does around a command: run it against the storage, answer a write
 * only once the log has it (on disk under PERSISTENCE_FSYNC=always), and map failures to the
 * status and `{code, message}` body every door answers.
 */
import { ERRORS, MemkvError, type ErrorCode } from '../errors.js';
import type { MaybePromise, Storage } from '../storage/storage.js';
import type { Command, CommandArgs, CommandLimits } from './command.js';
import { DEFAULT_MAX_TXN_OPS } from './limits.js';

export interface ExecutorOptions {
  storage: Storage;
  /**
   * The durability seam (persistence's `durable`): after a write, a promise that settles once
   * the log has it (its rejection is the write's failure), or undefined when nothing needs
   * waiting for. Absent when writes need no wait.
   */
  durable?: (() => Promise<void> | undefined) | undefined;
  /** The limits commands apply; default memkv's defaults. */
  limits?: Partial<CommandLimits> | undefined;
}

/** Runs commands for the doors. */
export class Executor {
  readonly storage: Storage;
  readonly #durable: (() => Promise<void> | undefined) | undefined;
  readonly limits: CommandLimits;

  constructor(options: ExecutorOptions) {
    this.storage = options.storage;
    this.#durable = options.durable;
    this.limits = { maxTxnOps: DEFAULT_MAX_TXN_OPS, ...options.limits };
  }

  /**
   * Runs `command` and answers its result: at once when the storage answers at once and nothing
   * waits for the log, else a promise. A failure is thrown (or rejected) as is: see {@link errorAnswer}.
   */
  execute<Result>(command: Command<any, any, Result>, args: CommandArgs<any, any>): MaybePromise<Result> {
    const result = command.run(this.storage, args, this.limits);
    if (!command.writes || this.#durable === undefined) return result;
    return result instanceof Promise ? result.then((value) => this.#logged(value)) : this.#logged(result);
  }

  /**
   * Runs `command` without waiting for the log, for a door that batches that wait itself (the
   * raw front writes the answers to a chunk once the log has all of them, see {@link waitForLog}).
   */
  run<Result>(command: Command<any, any, Result>, args: CommandArgs<any, any>): MaybePromise<Result> {
    return command.run(this.storage, args, this.limits);
  }

  /** Whether writes wait for the log (persistence is on). */
  get waitsForLog(): boolean {
    return this.#durable !== undefined;
  }

  /** A promise that settles once the log has every write so far; undefined when none waits. */
  waitForLog(): Promise<void> | undefined {
    return this.#durable?.();
  }

  #logged<Result>(result: Result): MaybePromise<Result> {
    const logged = this.#durable!();
    return logged === undefined ? result : logged.then(() => result);
  }
}

/** A failure as every door answers it: the status and the `{code, message}` body. */
export interface ErrorAnswer {
  status: number;
  body: { code: ErrorCode; message: string; [field: string]: unknown };
}

/** The answer to a command's failure: a MemkvError's own code and status; anything else is a 500. */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof MemkvError) {
    const body = { code: error.code, message: error.message };
    return { status: error.status, body: error.details === undefined ? body : { ...body, ...error.details } };
  }
  return { status: 500, body: { code: 'internal_server_error', message: ERRORS.internal_server_error.message } };
}
