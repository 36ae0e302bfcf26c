/**
 * setTimeout's longest delay (2^31-1 ms, ~24.8 days); a longer one fires at once. Sessions live up
 * to SESSION_TTL_DAYS (30 by default), so a far expiry is reached in steps.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * Ends a session's sockets on this node when the session expires: one timer per session that has
 * sockets here, to the expiry instant (a session's expiry is fixed when it is created).
 *
 * Why a timer and not a periodic sweep: the expiry is known at the handshake, a timer fires at the
 * right moment (a sweep is late by up to its period, or costs a pass over every socket each
 * period), and Node keeps thousands of timers cheaply. Why per session and not per socket (issue
 * 15): a socket then costs nothing here (a timer, its closure and a record were ~300 bytes of every
 * idle socket), and the session's sockets are already a room (`session:<id>`, which sign-out
 * disconnects), so the timer ends that room. The client's reconnect then meets the handshake's own
 * expiry check and stops with UNAUTHENTICATED.
 */
export class SessionExpiries {
  private readonly timers = new Map<string, NodeJS.Timeout>();

  constructor(
    private readonly now: () => number,
    /** Disconnects the session's sockets on this node. */
    private readonly expire: (sessionId: string) => void,
  ) {}

  /** A socket of `sessionId` connected: arms the session's timer unless it is armed. */
  watch(sessionId: string, expiresAt: number): void {
    if (!this.timers.has(sessionId)) this.arm(sessionId, expiresAt);
  }

  /** The session has no socket on this node any more: its timer goes. */
  unwatch(sessionId: string): void {
    const timer = this.timers.get(sessionId);
    if (timer === undefined) return;
    clearTimeout(timer);
    this.timers.delete(sessionId);
  }

  /** Sessions with a timer (tests: a closed session's timer must not stay). */
  get size(): number {
    return this.timers.size;
  }

  private arm(sessionId: string, expiresAt: number): void {
    const left = expiresAt - this.now();
    if (left <= 0) {
      this.timers.delete(sessionId);
      this.expire(sessionId);
      return;
    }
    // One callback for every session, with arguments: no closure per session.
    const timer = setTimeout(this.onTimer, Math.min(left, MAX_TIMER_MS), sessionId, expiresAt);
    // A pending expiry must not keep a stopping process alive.
    timer.unref();
    this.timers.set(sessionId, timer);
  }

  /** Every timer's callback: expires the session, or waits another step for a far expiry. */
  private readonly onTimer = (sessionId: string, expiresAt: number): void => this.arm(sessionId, expiresAt);
}
