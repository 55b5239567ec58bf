/**
 * A front's watch hub fed by the Redis change feed (STORAGE=redis, standalone): once the feed has
 * started (Redis reachable), a hub is created whose history begins with the stream's last whole
 * revisions, so that a watch resumes on this front from any change the stream still holds, also
 * one made before this front started; every change after them is published as the feed reads it.
 * Until then there is no hub (the watch route answers 503 backend_unavailable). Should the feed
 * find changes missing (see RedisChangeFeed.onGap), the hub is replaced by one whose history
 * starts after them, and the old one closed: its watchers resume and get 410 history_compacted.
 */
import type { Change } from '../engine/change.js';
import type { RedisChangeFeed } from './redis-feed.js';

/** What this needs of a watch hub. */
export interface ChangeHub {
  publish(change: Change): void;
  /** Ends every watcher's stream (they reconnect and resume, or learn that the history is gone). */
  close(): void;
}

/** Where a hub created here starts: the position before its first change, and the revision it is at. */
export interface HubStart {
  /** The revision the hub's history starts after. */
  startRevision: number;
  /** The revision of the last change published (the feed's position). */
  revision: () => number;
}

export class RedisWatch<Hub extends ChangeHub> {
  readonly #feed: RedisChangeFeed;
  #hub: Hub | undefined;
  readonly started: Promise<Hub>;

  /**
   * Starts `feed` in the background (it waits for Redis), then creates the hub with
   * `createHub` and publishes into it the stream's last `history` changes, then every new one.
   */
  constructor(feed: RedisChangeFeed, history: number, createHub: (start: HubStart) => Hub) {
    this.#feed = feed;
    this.started = feed.start(history).then(({ floor, backlog }) => {
      const revision = (): number => feed.position?.revision ?? floor.revision;
      const hub = createHub({ startRevision: floor.revision, revision });
      for (const change of backlog) hub.publish(change);
      /** After a gap in the middle of a revision: the rest of that revision is left out. */
      let skipThrough = -1;
      // Changes were lost between the last one and this one: a new hub whose history starts
      // here, and the old one closed, so that its watchers resume and learn (410) that their
      // history is gone rather than miss changes unknowingly.
      feed.onGap((change) => {
        const old = this.#hub!;
        const startRevision = change.index === 0 ? change.revision - 1 : change.revision;
        if (change.index > 0) skipThrough = change.revision;
        this.#hub = createHub({ startRevision, revision });
        old.close();
      });
      feed.onChange((change) => {
        if (change.revision > skipThrough) this.#hub!.publish(change);
      });
      this.#hub = hub;
      return hub;
    });
    // A failure to start is seen by whoever awaits `started`; nothing else waits for it.
    this.started.catch(() => {});
  }

  /** The hub, once the feed has started; undefined before. */
  get hub(): Hub | undefined {
    return this.#hub;
  }

  /**
   * Resolves once the hub has every change made before the call, on any front: a watch that
   * starts after a write made through another front then sees that write's revision as past.
   */
  caughtUp(timeoutMs?: number): Promise<void> {
    return this.#feed.caughtUp(timeoutMs);
  }

  /** Stops the feed. */
  stop(): Promise<void> {
    return this.#feed.stop();
  }
}
