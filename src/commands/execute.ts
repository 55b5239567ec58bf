/**
 * execute(): what every door does around a command: run it against the storage, answer a write
 * only once the log has it (on disk under PERSISTENCE_FSYNC=always), and map failures to the
 * status and `{code, message}` body every door answers.
 */
import { ERRORS, MemkvError, type ErrorCode } from '../errors.js';
import type { MaybePromise, Storage } from '../storage/storage.js';
import type { Command, CommandArgs } from './command.js';

export interface ExecutorOptions {
  storage: Storage;
  /**
   * The durability seam (persistence's `durable`): after a write, a promise that settles once
   * the log has it (its rejection is the write's failure), or undefined when nothing needs
   * waiting for. Absent when writes need no wait.
   */
  durable?: (() => Promise<void> | undefined) | undefined;
}

/** Runs commands for the doors. */
export class Executor {
  readonly storage: Storage;
  readonly #durable: (() => Promise<void> | undefined) | undefined;

  constructor(options: ExecutorOptions) {
    this.storage = options.storage;
    this.#durable = options.durable;
  }

  /**
   * Runs `command` and answers its result: at once when the storage answers at once and nothing
   * waits for the log, else a promise. A failure is thrown (or rejected) as is: see {@link errorAnswer}.
   */
  execute<Result>(command: Command<any, any, Result>, args: CommandArgs<any, any>): MaybePromise<Result> {
    const result = command.run(this.storage, args);
    if (!command.writes || this.#durable === undefined) return result;
    return result instanceof Promise ? result.then((value) => this.#logged(value)) : this.#logged(result);
  }

  /**
   * Runs `command` without waiting for the log, for a door that batches that wait itself (the
   * raw front writes the answers to a chunk once the log has all of them, see {@link waitForLog}).
   */
  run<Result>(command: Command<any, any, Result>, args: CommandArgs<any, any>): MaybePromise<Result> {
    return command.run(this.storage, args);
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
  body: { code: ErrorCode; message: string };
}

/** The answer to a command's failure: a MemkvError's own code and status; anything else is a 500. */
export function errorAnswer(error: unknown): ErrorAnswer {
  if (error instanceof MemkvError) return { status: error.status, body: { code: error.code, message: error.message } };
  return { status: 500, body: { code: 'internal_server_error', message: ERRORS.internal_server_error.message } };
}
