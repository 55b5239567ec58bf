/**
 * The engine as a front door: the store in-process, each operation run through the command layer
 * (the executor and the command table, as every HTTP door runs it), answered as HTTP would (a
 * MemkvError as its status and body).
 */
import type { CommandArgs } from '../../../src/commands/command.js';
import { errorAnswer, Executor } from '../../../src/commands/execute.js';
import { deletePrefix, groupByDelimiter } from '../../../src/commands/prefix-ops.js';
import { COMMANDS } from '../../../src/commands/table.js';
import { createStore } from '../../../src/engine/store.js';
import { MemkvError } from '../../../src/errors.js';
import { memoryStorage } from '../../../src/storage/memory.js';
import type { Preconditions } from '../../../src/storage/storage.js';
import type { ContractOp, Door, Outcome } from '../suite.js';

const byName = new Map(COMMANDS.map((command) => [command.name, command]));

/** A precondition as the command layer takes it from the headers (see http-doors.ts). */
function preconditions(ifVersion: number | null | undefined, ifAbsent?: boolean): Preconditions | undefined {
  if (ifVersion === undefined && ifAbsent !== true) return undefined;
  return { ...(ifVersion === undefined ? {} : { ifVersion }), ...(ifAbsent === true ? { ifAbsent } : {}) };
}

/** Opens a store with the system clock and default options, as `memkv serve` does. */
export async function openStoreDoor(): Promise<Door> {
  const store = createStore();
  const executor = new Executor({ storage: memoryStorage(store) });
  const command = (name: string, args: Partial<CommandArgs>): unknown =>
    executor.execute(byName.get(name)!, { key: '', body: undefined, query: undefined, minimal: false, ...args });

  const run = (op: ContractOp): unknown => {
    switch (op.op) {
      case 'set':
        return command('set', { body: { key: op.key, value: op.value, ttl: op.ttl }, preconditions: preconditions(op.ifVersion, op.ifAbsent) });
      case 'get':
        return command('get', { key: op.key });
      case 'update':
        return command('update', { key: op.key, body: { value: op.value, ttl: op.ttl }, preconditions: preconditions(op.ifVersion) });
      case 'remove':
        return command('remove', { key: op.key, preconditions: preconditions(op.ifVersion) });
      case 'push':
        return command('push', { key: op.key, body: { value: op.value, ttl: op.ttl }, minimal: op.minimal === true, preconditions: preconditions(op.ifVersion) });
      case 'pop':
        return command('pop', { key: op.key, minimal: op.minimal === true, preconditions: preconditions(op.ifVersion) });
      case 'range':
        return command('range', { key: op.key, query: { start: String(op.start), stop: String(op.stop) } });
      case 'getTtl':
        return command('getTtl', { key: op.key });
      case 'setTtl':
        return command('setTtl', { key: op.key, body: { ttl: op.ttl }, preconditions: preconditions(op.ifVersion) });
      case 'txn':
        return command('txn', { body: { checks: op.checks, ops: op.ops } });
      case 'size':
        return { keys: store.size };
      case 'flush':
        return { removed: store.flush() };
      case 'keys': {
        // The cursor is the slot to continue from (the HTTP layer signs it; nothing to sign here).
        const prefix = op.prefix ?? '';
        const page = store.scan(op.cursor === undefined ? 0 : Number(op.cursor), { prefix, limit: op.limit ?? 100 });
        const cursor = page.nextSlot === null ? null : String(page.nextSlot);
        if (op.delimiter === undefined) return { keys: page.keys, cursor };
        const grouped = groupByDelimiter(page.keys, prefix, op.delimiter);
        return { keys: grouped.keys, prefixes: grouped.prefixes, cursor };
      }
      case 'deletePrefix':
        // The schema's refusal of an empty prefix, which HTTP checks before the handler runs.
        if (op.prefix === '') throw new MemkvError('invalid_request', 'body/prefix must NOT have fewer than 1 characters');
        return deletePrefix<number>({
          prefix: op.prefix,
          dryRun: op.dryRun === true,
          scan: (from, prefix, limit) => {
            const page = store.scan(from ?? 0, { prefix, limit });
            return { keys: page.keys, next: page.nextSlot };
          },
          remove: (key) => store.remove(key),
        }).then((count) => (op.dryRun === true ? { matched: count } : { deleted: count }));
    }
  };

  return {
    async call(op): Promise<Outcome> {
      try {
        return { status: 200, body: await run(op) };
      } catch (error) {
        if (error instanceof MemkvError) return errorAnswer(error);
        throw error;
      }
    },
    async close() {
      store.close();
    },
  };
}
