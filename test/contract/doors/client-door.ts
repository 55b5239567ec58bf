/**
 * The typed client as a front door: its wire calls (the server's JSON bodies as they came) to a
 * real server, and its typed errors back to the status and `{code, message}` they carry.
 */
import {
  ConnectionError,
  createClient,
  MemkvClientError,
  PreconditionFailedError,
  TimeoutError,
  TxnConflictError,
  UnexpectedResponseError,
  ValidationError,
} from '@memkv/client';
import { startMemkv } from '../../helpers/servers.js';
import type { ContractOp, Door, Outcome } from '../suite.js';

/** A real server (raw front on) and a client without retries, so that every answer shows as it came. */
export async function openClientDoor(): Promise<Door> {
  const server = await startMemkv();
  const { wire } = createClient({ url: server.url, retries: 0 });

  const run = (op: ContractOp): Promise<unknown> => {
    switch (op.op) {
      // Values go as given: the client leaves checking them to the server.
      case 'set':
        return wire.set(op.key, op.value as string, { ttl: op.ttl, ifVersion: op.ifVersion, ifAbsent: op.ifAbsent });
      case 'get':
        return wire.get(op.key);
      case 'update':
        return wire.update(op.key, op.value as string, { ttl: op.ttl, ifVersion: op.ifVersion });
      case 'remove':
        return wire.remove(op.key, { ifVersion: op.ifVersion });
      case 'push':
        return wire.push(op.key, op.value as string[], { ttl: op.ttl, minimal: op.minimal === true, ifVersion: op.ifVersion });
      case 'pop':
        return wire.pop(op.key, { minimal: op.minimal === true, ifVersion: op.ifVersion });
      case 'txn':
        return wire.txn(op.ops, { checks: op.checks });
      case 'range':
        return wire.range(op.key, op.start, op.stop);
      case 'getTtl':
        return wire.getTtl(op.key);
      case 'setTtl':
        return wire.setTtl(op.key, op.ttl, { ifVersion: op.ifVersion });
      case 'size':
        return wire.size();
      case 'flush':
        return wire.flush();
      case 'keys':
        return wire.listKeys({ prefix: op.prefix, cursor: op.cursor, limit: op.limit, delimiter: op.delimiter });
      case 'deletePrefix':
        return wire.deletePrefix(op.prefix, { dryRun: op.dryRun });
    }
  };

  return {
    async call(op): Promise<Outcome> {
      try {
        return { status: 200, body: await run(op) };
      } catch (error) {
        // No answer, or one that is not memkv's: the door is broken, not the case.
        if (error instanceof ConnectionError || error instanceof TimeoutError || error instanceof UnexpectedResponseError) throw error;
        if (error instanceof MemkvClientError) {
          // The client refuses some invalid input before sending it (an empty key): the same
          // refusal the server would answer, 400 invalid_request, without a status.
          const status = error.status ?? (error instanceof ValidationError ? 400 : undefined);
          if (status === undefined) throw error;
          return { status, body: { code: error.code, message: error.message, ...detailsOf(error) } };
        }
        throw error;
      }
    },
    close: () => server.close(),
  };
}

/** The fields an error answer adds beside code and message, as the client's errors carry them. */
function detailsOf(error: MemkvClientError): Record<string, unknown> {
  if (error instanceof PreconditionFailedError) return { version: error.version };
  if (error instanceof TxnConflictError) return { conflicts: error.conflicts };
  const op = (error as { op?: number }).op;
  return op === undefined ? {} : { op };
}
