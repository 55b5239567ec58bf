/**
 * The fsync policies of the append-only log (PERSISTENCE_FSYNC). Imports nothing, like errors.ts
 * and units.ts, so that config (which parses the setting) and persistence (which applies it) share
 * this one definition without depending on each other.
 */

/** Every fsync policy, for validation. */
export const FSYNC_POLICIES = ['always', 'everysec', 'no'] as const;

/**
 * When the log is fsynced: `always` before each write is answered (one shared fsync per batch),
 * `everysec` once a second, `no` when the OS decides.
 */
export type FsyncPolicy = (typeof FSYNC_POLICIES)[number];
