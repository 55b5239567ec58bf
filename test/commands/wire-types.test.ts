/**
 * The client's wire types (packages/client/src/protocol.ts) and the server's schemas
 * (src/commands/schemas.ts) describe the same JSON: checked by the type checker (`npm run
 * typecheck` fails on a drift: each `same<A, B>(true)` compiles only when either type is
 * assignable to the other) and by validating the client's examples against the schemas at run time.
 */
import type { Static } from 'typebox';
import { Value } from 'typebox/value';
import { describe, expect, it } from 'vitest';
import type {
  MessageJson,
  MinimalPopRowJson,
  MinimalRowJson,
  PopRowJson,
  PushBody as PushBodyJson,
  RangeRowJson,
  RowJson,
  SetBody as SetBodyJson,
  TtlBody as TtlBodyJson,
  TtlJson,
  UpdateBody as UpdateBodyJson,
} from '@memkv/client/protocol';
import {
  Message,
  PopAnswer,
  PushAnswer,
  PushBody,
  RangeRow,
  Row,
  SetBody,
  TtlAnswer,
  TtlBody,
  UpdateBody,
} from '../../src/commands/schemas.js';
import { COMMANDS } from '../../src/commands/table.js';

/** `true` when `A` and `B` accept the same values (each is assignable to the other). */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
/** Compiles only for `same<A, B>(true)` where the two types agree. */
const same = <A, B>(agree: Same<A, B>): boolean => agree;

describe('wire types and schemas', () => {
  it('agree on every request body', () => {
    expect(same<Static<typeof SetBody>, SetBodyJson>(true)).toBe(true);
    expect(same<Static<typeof UpdateBody>, UpdateBodyJson>(true)).toBe(true);
    expect(same<Static<typeof PushBody>, PushBodyJson>(true)).toBe(true);
    expect(same<Static<typeof TtlBody>, TtlBodyJson>(true)).toBe(true);
  });

  it('agree on every answer', () => {
    expect(same<Static<typeof Message>, MessageJson>(true)).toBe(true);
    expect(same<Static<typeof Row>, RowJson>(true)).toBe(true);
    expect(same<Static<typeof PushAnswer>, RowJson & { kind: 'string_slice' } | MinimalRowJson>(true)).toBe(true);
    expect(same<Static<typeof PopAnswer>, PopRowJson | MinimalPopRowJson>(true)).toBe(true);
    expect(same<Static<typeof RangeRow>, RangeRowJson>(true)).toBe(true);
    expect(same<Static<typeof TtlAnswer>, TtlJson>(true)).toBe(true);
  });

  it('accept what the client expects at run time', () => {
    const times = { version: 1, ttl: null, created_at: '2026-11-27T12:00:00.000Z', updated_at: '2026-11-27T12:00:00.000Z' };
    const list: RowJson = { key: 'l', kind: 'string_slice', value: ['a'], ...times };
    const minimal: MinimalRowJson = { key: 'l', kind: 'string_slice', length: 1, ...times };
    const range: RangeRowJson = { key: 'l', kind: 'string_slice', value: ['a'], length: 3, ...times };
    expect(Value.Check(Row, list)).toBe(true);
    expect(Value.Check(PushAnswer, list)).toBe(true);
    expect(Value.Check(PushAnswer, minimal)).toBe(true);
    expect(Value.Check(PopAnswer, { ...minimal, popped: 'b' } satisfies MinimalPopRowJson)).toBe(true);
    expect(Value.Check(RangeRow, range)).toBe(true);
    expect(Value.Check(TtlAnswer, { key: 'k', ttl: null, version: 3 } satisfies TtlJson)).toBe(true);
    expect(Value.Check(TtlBody, { ttl: '1h' } satisfies TtlBodyJson)).toBe(true);
    expect(Value.Check(TtlBody, { ttl: '1d' })).toBe(false);
  });

  it('every command names its schemas and a body check when it takes a body', () => {
    for (const command of COMMANDS) {
      expect(command.answer, command.name).toBeDefined();
      expect(command.body === undefined || typeof command.fastBody === 'function', command.name).toBe(true);
    }
  });
});
