import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { MAX_TIMER_MS, SessionExpiries } from "../../src/realtime/session-expiry.js";

/** Issue 15: one timer per session with sockets on the node, not one per socket. */
let expired: string[];
let expiries: SessionExpiries;

beforeEach(() => {
  vi.useFakeTimers({ now: 0 });
  expired = [];
  expiries = new SessionExpiries(() => Date.now(), (sessionId) => expired.push(sessionId));
});
afterEach(() => {
  vi.useRealTimers();
});

describe("SessionExpiries", () => {
  it("expires a session at its expiry, once however many of its sockets were watched", () => {
    expiries.watch("s1", 5_000);
    expiries.watch("s1", 5_000);
    expiries.watch("s2", 9_000);
    expect(expiries.size).toBe(2);
    vi.advanceTimersByTime(4_999);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(expired).toEqual(["s1"]);
    expect(expiries.size).toBe(1);
    vi.advanceTimersByTime(4_000);
    expect(expired).toEqual(["s1", "s2"]);
    expect(expiries.size).toBe(0);
  });

  it("drops the timer of a session that has no socket left, and arms it again for a new one", () => {
    expiries.watch("s1", 5_000);
    expiries.unwatch("s1");
    expect(expiries.size).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(expired).toEqual([]);
    // Unwatching twice, or a session never watched, is a no-op.
    expiries.unwatch("s1");
    expiries.unwatch("never");
    expiries.watch("s1", 15_000);
    vi.advanceTimersByTime(5_000);
    expect(expired).toEqual(["s1"]);
  });

  it("expires at once a session already past its expiry (a handshake that raced it)", () => {
    vi.advanceTimersByTime(6_000);
    expiries.watch("late", 5_000);
    expect(expired).toEqual(["late"]);
    expect(expiries.size).toBe(0);
  });

  it("reaches an expiry beyond setTimeout's longest delay in steps, not at once", () => {
    const far = 2 * MAX_TIMER_MS + 1_000;
    expiries.watch("far", far);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(expired).toEqual([]);
    vi.advanceTimersByTime(MAX_TIMER_MS);
    expect(expired).toEqual([]);
    expect(expiries.size).toBe(1);
    vi.advanceTimersByTime(1_000);
    expect(expired).toEqual(["far"]);
  });
});
