/**
 * The transaction command (`POST /db/txn`): checks on versions, then several ops applied
 * together under one revision, or none of them. Its meaning is the storage's `txn`; this entry
 * validates and translates the JSON, and names the keys it touches for authorization.
 */
import type { TxnBody, TxnJson } from '@memkv/client/protocol';
import { Type } from 'typebox';
import { MemkvError } from '../errors.js';
import type { TxnCheck, TxnOp, TxnResult } from '../storage/storage.js';
import { defineCommand, type CommandLimits } from './command.js';
import { TXN_OPS_HARD_LIMIT } from './limits.js';
import { DURATION_PATTERN, Version } from './schemas.js';
import { MAX_TTL_CHARS, parseTtl } from './ttl.js';


const Key = Type.String({ minLength: 1 });
// Without `examples`: OpenAPI 3.0 takes none inside a union's members.
const Ttl = Type.String({ pattern: DURATION_PATTERN, maxLength: MAX_TTL_CHARS, description: 'A positive duration ("90s", "1h30m").' });
const Value = Type.Union([Type.String(), Type.Array(Type.String())], { description: 'A string, or a list of strings.' });
const NullableVersion = Type.Union([Version, Type.Null()]);

const TxnCheckSchema = Type.Object(
  { key: Key, version: { ...NullableVersion, description: "The key's version must be this (`null`: the key must be missing)." } },
  { additionalProperties: false },
);

const valueOp = (op: 'set' | 'update' | 'push', description: string) =>
  Type.Object({ op: Type.Literal(op), key: Key, value: Value, ttl: Type.Optional(Ttl) }, { additionalProperties: false, description });

const TxnOpSchema = Type.Union([
  valueOp('set', 'Create or replace the key.'),
  valueOp('update', 'Replace the value of an existing key (404 item_not_found otherwise).'),
  valueOp('push', 'Append one string or several to the list at the key (created when missing).'),
  Type.Object({ op: Type.Literal('pop'), key: Key }, { additionalProperties: false, description: 'Remove the last element of the list at the key.' }),
  Type.Object({ op: Type.Literal('remove'), key: Key }, { additionalProperties: false, description: 'Remove the key (404 item_not_found when it is missing).' }),
  Type.Object(
    { op: Type.Literal('ttl'), key: Key, ttl: Type.Union([Ttl, Type.Null()]) },
    { additionalProperties: false, description: "Change the key's expiry (`null`: never expire)." },
  ),
]);

export const TxnBodySchema = Type.Object(
  {
    checks: Type.Optional(Type.Array(TxnCheckSchema, { maxItems: TXN_OPS_HARD_LIMIT, description: 'Versions the keys must have; all must hold.' })),
    ops: Type.Array(TxnOpSchema, { minItems: 1, maxItems: TXN_OPS_HARD_LIMIT, description: 'Applied in order, together, if every check holds.' }),
  },
  { additionalProperties: false },
);

const TxnOpResultSchema = Type.Object(
  {
    op: Type.Union([Type.Literal('set'), Type.Literal('update'), Type.Literal('push'), Type.Literal('pop'), Type.Literal('remove'), Type.Literal('ttl')]),
    key: Type.String(),
    version: { ...NullableVersion, description: "The key's version after the op (the transaction's revision); null once removed." },
    length: Type.Optional(Type.Integer({ minimum: 0, description: "push and pop: the list's length after the op." })),
    popped: Type.Optional(Type.String({ description: 'pop: the element removed.' })),
  },
  { additionalProperties: false },
);

export const TxnAnswer = Type.Object(
  {
    ok: Type.Literal(true),
    version: { ...Version, description: 'The revision of the transaction: every key it wrote has it as its version.' },
    results: Type.Array(TxnOpResultSchema),
  },
  { additionalProperties: false },
);

// POST /api/v1/db/txn  {checks?, ops}
export const txn = defineCommand<TxnBody, undefined, TxnJson>({
  name: 'txn',
  method: 'POST',
  path: '/db/txn',
  access: 'write',
  keyFrom: 'none',
  writes: true,
  summary: 'Apply several writes together, if versions hold',
  description:
    'If every check holds, applies every op in order and atomically: no other request sees a part of it, every key it ' +
    'writes gets the same new version, and with persistence on it is one log record. If a check fails nothing applies ' +
    '(409 txn_conflict, with the keys that failed and their versions); if an op fails (a wrong type, an empty list, a ' +
    'missing key) nothing applies and the error names the op. At most MAX_TXN_OPS ops and as many checks. Needs the ' +
    'write right on every key of `ops` and the read right on every key of `checks`.',
  body: TxnBodySchema,
  // Always validated by the schema (the fast path does not serve this command's path).
  fastBody: () => false,
  keys: (body) => [
    ...(body.checks ?? []).map((check) => ({ key: check.key, access: 'read' as const })),
    ...body.ops.map((op) => ({ key: op.key, access: 'write' as const })),
  ],
  answer: TxnAnswer,
  errors: [400, 404, 409, 412, 413, 415, 500, 507],
  run: (storage, { body }, limits) => {
    const checks = body.checks ?? [];
    if (body.ops.length > limits.maxTxnOps || checks.length > limits.maxTxnOps) {
      throw new MemkvError('invalid_request', `a transaction holds at most ${limits.maxTxnOps} ops and ${limits.maxTxnOps} checks (MAX_TXN_OPS)`);
    }
    const result = storage.txn(checks as TxnCheck[], body.ops.map(toTxnOp));
    return result instanceof Promise ? result.then(toTxnJson) : toTxnJson(result);
  },
});

function toTxnOp(op: TxnBody['ops'][number]): TxnOp {
  switch (op.op) {
    case 'set':
    case 'update':
      return { op: op.op, key: op.key, value: op.value, ttlMs: parseTtl(op.ttl) };
    case 'push':
      return { op: 'push', key: op.key, values: op.value, ttlMs: parseTtl(op.ttl) };
    case 'ttl':
      return { op: 'ttl', key: op.key, ttlMs: op.ttl === null ? null : parseTtl(op.ttl)! };
    default:
      return { op: op.op, key: op.key };
  }
}

function toTxnJson(result: TxnResult): TxnJson {
  return { ok: true, version: result.version, results: result.results };
}

