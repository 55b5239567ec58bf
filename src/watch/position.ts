/**
 * Positions in the change feed: "after change i of revision N" (`N.i`, an event id of a
 * transaction's revision) or "after the whole revision N" (`N`), parsed from `from` and
 * `Last-Event-ID`, and the event ids built from them.
 */
import { MemkvError } from '../errors.js';

/** A place in the feed: everything at or before it has been seen. `index` is `Infinity` for the whole revision. */
export interface Position {
  readonly revision: number;
  readonly index: number;
}

/** Longest `from` / `Last-Event-ID` text accepted. */
const MAX_POSITION_CHARS = 40;
const POSITION = /^(0|[1-9][0-9]{0,15})(?:\.(0|[1-9][0-9]{0,9}))?$/;

/**
 * Parses `N` or `N.i` (whole numbers without leading zeros or signs).
 * @param name the parameter's name for the message (`from`, `Last-Event-ID`)
 * @throws MemkvError `invalid_request` naming it
 */
export function parsePosition(text: string, name: string): Position {
  const match = text.length <= MAX_POSITION_CHARS ? POSITION.exec(text) : null;
  const revision = match === null ? NaN : Number(match[1]);
  if (match === null || !Number.isSafeInteger(revision)) {
    throw new MemkvError(
      'invalid_request',
      `${name} must be an event id: a revision N, or N.i (after change i of revision N), such as 42 or 42.1; got ${JSON.stringify(text.slice(0, MAX_POSITION_CHARS))}`,
    );
  }
  return { revision, index: match[2] === undefined ? Infinity : Number(match[2]) };
}

/** Negative when `a` comes before `b`, 0 when equal, positive after. */
export function comparePositions(a: Position, b: Position): number {
  return a.revision !== b.revision ? a.revision - b.revision : a.index === b.index ? 0 : a.index < b.index ? -1 : 1;
}

/** The position as an event id: `N` for a whole revision, `N.i` otherwise. */
export function formatPosition(position: Position): string {
  return position.index === Infinity ? String(position.revision) : `${position.revision}.${position.index}`;
}
