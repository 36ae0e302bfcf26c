import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { TypingUpdate } from "@parley/shared";
import { TypingService } from "../../src/domain/typing.service.js";

const TTL = 5000;
let updates: TypingUpdate[];
let typing: TypingService;

beforeEach(() => {
  vi.useFakeTimers();
  updates = [];
  typing = new TypingService(TTL, (u) => updates.push(u));
});
afterEach(() => {
  typing.close();
  vi.useRealTimers();
});

const on = (roomId: string, userId: string) => ({ roomId, userId, nickname: userId.toUpperCase(), typing: true });
const off = (roomId: string, userId: string) => ({ roomId, userId, nickname: userId.toUpperCase(), typing: false });

describe("TypingService", () => {
  it("announces a start once and expires it after the TTL", () => {
    typing.start("r1", "ann", "ANN", "s1");
    expect(updates).toEqual([on("r1", "ann")]);
    vi.advanceTimersByTime(TTL - 1);
    expect(updates).toHaveLength(1);
    vi.advanceTimersByTime(1);
    expect(updates).toEqual([on("r1", "ann"), off("r1", "ann")]);
  });

  it("extends the TTL on refresh and announces the refresh", () => {
    typing.start("r1", "ann", "ANN", "s1");
    vi.advanceTimersByTime(TTL - 100);
    typing.start("r1", "ann", "ANN", "s1");
    vi.advanceTimersByTime(TTL - 1);
    expect(updates).toEqual([on("r1", "ann"), on("r1", "ann")]);
    vi.advanceTimersByTime(1);
    expect(updates).toEqual([on("r1", "ann"), on("r1", "ann"), off("r1", "ann")]);
  });

  it("stops early on stop, once, and the old timer does not fire later", () => {
    typing.start("r1", "ann", "ANN", "s1");
    typing.stop("r1", "ann");
    typing.stop("r1", "ann");
    vi.advanceTimersByTime(TTL * 2);
    expect(updates).toEqual([on("r1", "ann"), off("r1", "ann")]);
  });

  it("ignores a stop for someone who is not typing", () => {
    typing.stop("r1", "ann");
    expect(updates).toEqual([]);
  });

  it("keeps rooms and users apart", () => {
    typing.start("r1", "ann", "ANN", "s1");
    typing.start("r2", "ann", "ANN", "s1");
    typing.start("r1", "bob", "BOB", "s2");
    typing.stop("r1", "ann");
    expect(updates.slice(3)).toEqual([off("r1", "ann")]);
    vi.advanceTimersByTime(TTL);
    expect(updates.slice(4)).toEqual(expect.arrayContaining([off("r2", "ann"), off("r1", "bob")]));
    expect(updates).toHaveLength(6);
  });

  it("dropSocket clears every indicator that socket started, and only those", () => {
    typing.start("r1", "ann", "ANN", "s1");
    typing.start("r2", "ann", "ANN", "s1");
    typing.start("r1", "bob", "BOB", "s2");
    typing.start("r3", "ann", "ANN", "s3"); // Ann's other tab
    updates.length = 0;
    typing.dropSocket("s1");
    expect(updates).toEqual([off("r1", "ann"), off("r2", "ann")]);
    typing.dropSocket("s1");
    expect(updates).toHaveLength(2);
    vi.advanceTimersByTime(TTL);
    expect(updates.slice(2)).toEqual([off("r1", "bob"), off("r3", "ann")]);
  });

  it("close stops every timer silently", () => {
    typing.start("r1", "ann", "ANN", "s1");
    typing.close();
    vi.advanceTimersByTime(TTL * 2);
    expect(updates).toEqual([on("r1", "ann")]);
  });
});
