import { describe, expect, it } from "vitest";
import { loadConfig } from "../../src/config.js";
import { loadRateLimitBudgets } from "../../src/security/rate-limit-config.js";
import { DEFAULT_BUDGETS } from "../../src/security/rate-limits.js";

describe("rate-limit configuration", () => {
  it("defaults to the production budgets (limits are never off by default)", () => {
    expect(loadRateLimitBudgets({})).toEqual(DEFAULT_BUDGETS);
    expect(loadConfig({}).rateLimits).toEqual(DEFAULT_BUDGETS);
  });

  it('reads "<points>/<seconds>" budgets and socket caps', () => {
    const b = loadRateLimitBudgets({ RATE_LIMIT_MESSAGE_SEND: "10/2", RATE_LIMIT_SEARCH: "5/60", MAX_SOCKETS_PER_USER: "3" });
    expect(b.messageSend).toEqual({ points: 10, durationSec: 2 });
    expect(b.search).toEqual({ points: 5, durationSec: 60 });
    expect(b.socketsPerUser).toBe(3);
    expect(b.messageBurst).toEqual(DEFAULT_BUDGETS.messageBurst);
  });

  it("scales every budget with RATE_LIMIT_SCALE (test and benchmark servers)", () => {
    const b = loadRateLimitBudgets({ RATE_LIMIT_SCALE: "1000" });
    expect(b.messageSend).toEqual({ points: DEFAULT_BUDGETS.messageSend.points * 1000, durationSec: DEFAULT_BUDGETS.messageSend.durationSec });
    expect(b.socketsPerIp).toBe(DEFAULT_BUDGETS.socketsPerIp * 1000);
  });

  it.each([
    ["RATE_LIMIT_MESSAGE_SEND", "fast"],
    ["RATE_LIMIT_DM_OPEN", "0/60"],
    ["RATE_LIMIT_TYPING", "10/0"],
    ["MAX_SOCKETS_PER_IP", "0"],
    ["RATE_LIMIT_SCALE", "-1"],
  ])("refuses %s=%s, naming the variable", (name, value) => {
    expect(() => loadConfig({ [name]: value })).toThrow(name);
  });
});
