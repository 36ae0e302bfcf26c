import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { PresenceUpdate } from "@parley/shared";
import { PresenceService } from "../../src/domain/presence.service.js";

const GRACE = 3000;
let updates: PresenceUpdate[];
let presence: PresenceService;

beforeEach(() => {
  vi.useFakeTimers();
  updates = [];
  presence = new PresenceService(GRACE, (u) => updates.push(u));
});
afterEach(() => {
  presence.close();
  vi.useRealTimers();
});

const online = (userId: string) => ({ userId, nickname: userId.toUpperCase(), online: true });
const offline = (userId: string) => ({ userId, nickname: userId.toUpperCase(), online: false });

describe("PresenceService", () => {
  it("announces online on the first socket only", () => {
    presence.connected("ann", "ANN");
    presence.connected("ann", "ANN");
    expect(updates).toEqual([online("ann")]);
    expect(presence.isOnline("ann")).toBe(true);
    expect(presence.onlineUserIds()).toEqual(["ann"]);
  });

  it("announces offline GRACE ms after the last socket closed, and stays online until then", () => {
    presence.connected("ann", "ANN");
    presence.disconnected("ann");
    vi.advanceTimersByTime(GRACE - 1);
    expect(presence.isOnline("ann")).toBe(true);
    expect(updates).toEqual([online("ann")]);
    vi.advanceTimersByTime(1);
    expect(updates).toEqual([online("ann"), offline("ann")]);
    expect(presence.isOnline("ann")).toBe(false);
    expect(presence.onlineUserIds()).toEqual([]);
  });

  it("keeps a user online while another socket remains", () => {
    presence.connected("ann", "ANN");
    presence.connected("ann", "ANN");
    presence.disconnected("ann");
    vi.advanceTimersByTime(GRACE * 10);
    expect(updates).toEqual([online("ann")]);
    expect(presence.isOnline("ann")).toBe(true);
    presence.disconnected("ann");
    vi.advanceTimersByTime(GRACE);
    expect(updates).toEqual([online("ann"), offline("ann")]);
  });

  it("shows nothing when the user reconnects within the grace delay", () => {
    presence.connected("ann", "ANN");
    presence.disconnected("ann");
    vi.advanceTimersByTime(GRACE - 1);
    presence.connected("ann", "ANN");
    vi.advanceTimersByTime(GRACE * 10);
    expect(updates).toEqual([online("ann")]);
    // The next real departure is announced once, a full grace delay after it.
    presence.disconnected("ann");
    vi.advanceTimersByTime(GRACE - 1);
    expect(updates).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(updates).toEqual([online("ann"), offline("ann")]);
  });

  it("announces online again after a real offline", () => {
    presence.connected("ann", "ANN");
    presence.disconnected("ann");
    vi.advanceTimersByTime(GRACE);
    presence.connected("ann", "ANN");
    expect(updates).toEqual([online("ann"), offline("ann"), online("ann")]);
  });

  it("ignores a disconnect of an unknown user and keeps users apart", () => {
    presence.disconnected("ghost");
    presence.connected("ann", "ANN");
    presence.connected("bob", "BOB");
    presence.disconnected("bob");
    vi.advanceTimersByTime(GRACE);
    expect(updates).toEqual([online("ann"), online("bob"), offline("bob")]);
    expect(presence.onlineUserIds()).toEqual(["ann"]);
  });

  it("close cancels pending offline timers", () => {
    presence.connected("ann", "ANN");
    presence.disconnected("ann");
    presence.close();
    vi.advanceTimersByTime(GRACE);
    expect(updates).toEqual([online("ann")]);
  });
});
