/**
 * Login sessions. A login opens one; each refresh rotates its one valid refresh token; logout,
 * a password change or deleting the user closes it, which revokes every token that names it.
 * Only live sessions are kept (they end when their refresh token expires), so the table stays
 * small and no list of revoked tokens grows without end.
 */

/** One login. `refreshJti` is the only refresh token of the session that still works. */
export interface Session {
  readonly id: string;
  readonly userId: string;
  refreshJti: string;
  /** When the current refresh token expires, in epoch ms; the session ends then. */
  expiresAtMs: number;
  readonly createdAtMs: number;
}

/** Default bound on the open sessions of one user; opening one more closes the oldest. */
export const DEFAULT_MAX_SESSIONS_PER_USER = 64;

/** The open sessions, by id and by user. */
export class SessionTable {
  readonly #byId = new Map<string, Session>();
  /** Session ids of each user in the order they were opened (oldest first). */
  readonly #byUser = new Map<string, Set<string>>();
  readonly #maxPerUser: number;

  constructor(sessions: readonly Session[] = [], maxPerUser = DEFAULT_MAX_SESSIONS_PER_USER) {
    if (!Number.isSafeInteger(maxPerUser) || maxPerUser < 1) throw new TypeError(`maxPerUser must be an integer >= 1; got ${maxPerUser}`);
    this.#maxPerUser = maxPerUser;
    const ordered = [...sessions].sort((a, b) => a.createdAtMs - b.createdAtMs);
    for (const session of ordered) this.open({ ...session });
  }

  get(id: string): Session | undefined {
    return this.#byId.get(id);
  }

  /** Adds a session; when its user already has the maximum, closes their oldest one. */
  open(session: Session): void {
    let ids = this.#byUser.get(session.userId);
    if (ids === undefined) this.#byUser.set(session.userId, (ids = new Set()));
    while (ids.size >= this.#maxPerUser) this.close(ids.values().next().value!);
    this.#byId.set(session.id, session);
    ids.add(session.id);
  }

  /** Closes a session; returns whether it was open. */
  close(id: string): boolean {
    const session = this.#byId.get(id);
    if (session === undefined) return false;
    this.#byId.delete(id);
    const ids = this.#byUser.get(session.userId)!;
    ids.delete(id);
    if (ids.size === 0) this.#byUser.delete(session.userId);
    return true;
  }

  /** Closes every session of a user; returns how many. */
  closeAllOf(userId: string): number {
    const ids = [...(this.#byUser.get(userId) ?? [])];
    for (const id of ids) this.close(id);
    return ids.length;
  }

  /** Forgets the sessions whose refresh token has expired. */
  prune(nowMs: number): void {
    for (const session of this.#byId.values()) {
      if (session.expiresAtMs <= nowMs) this.close(session.id);
    }
  }

  /** Copies of the open sessions, oldest first. */
  list(): Session[] {
    return [...this.#byId.values()].sort((a, b) => a.createdAtMs - b.createdAtMs).map((session) => ({ ...session }));
  }
}
