/** The Clock the engine reads time from: the system clock in production, a manual one in tests. */

/** Source of wall-clock time in epoch milliseconds. */
export interface Clock {
  now(): number;
}

/** The real clock (`Date.now`). */
export const systemClock: Clock = { now: Date.now };

/** A clock that only moves when told to; for exact, fast TTL tests. */
export interface ManualClock extends Clock {
  /** Moves time forward by `ms` milliseconds. */
  advance(ms: number): void;
  /** Jumps to an absolute epoch time in milliseconds. */
  set(epochMs: number): void;
}

/** Creates a {@link ManualClock} starting at `startMs` (default 2025-01-01T00:00:00Z). */
export function createManualClock(startMs = Date.UTC(2025, 0, 1)): ManualClock {
  let nowMs = startMs;
  return {
    now: () => nowMs,
    advance(ms) {
      nowMs += ms;
    },
    set(epochMs) {
      nowMs = epochMs;
    },
  };
}
