/** Connects a source of changes (the embedded store) to a new watch hub. */
import type { ChangeListener } from '../engine/change.js';
import { createWatchHub, type WatchHub, type WatchHubOptions } from './watch-hub.js';

/** What the hub needs of the store: its revision and its change listener. */
export interface ChangeSource {
  readonly revision: number;
  setChangeListener(listener: ChangeListener | undefined): void;
}

/**
 * A hub fed by `source`'s changes from now on; resuming from before the current revision is
 * `history_compacted`. Another source (a Redis backend's feed) calls `hub.publish` itself.
 */
export function connectWatch(source: ChangeSource, options: Omit<WatchHubOptions, 'revision' | 'startRevision'> = {}): WatchHub {
  const hub = createWatchHub({ ...options, revision: () => source.revision });
  source.setChangeListener((change) => hub.publish(change));
  return hub;
}
