import { describe, expect, it } from "vitest";
import { parseLoadArgs } from "../src/lib/load-args.js";

describe("parseLoadArgs --compare", () => {
  it("defaults to issue 15's room: 200 members, 20 senders, 1k msg/s for acks, 60k deliveries/s for CPU", () => {
    expect(parseLoadArgs(["--compare"], {})).toMatchObject({ compare: true, clients: 200, senders: 20, ackRate: 1000, cpuRate: 60_000, nodes: 1 });
  });
  it("keeps the other defaults without it, and takes the flags", () => {
    expect(parseLoadArgs([], {})).toMatchObject({ compare: false, clients: 500, senders: 4 });
    expect(parseLoadArgs(["--compare", "--clients", "50", "--ack-rate", "200", "--cpu-rate", "10000"], {})).toMatchObject({ clients: 50, ackRate: 200, cpuRate: 10_000 });
  });
  it("steps from 10k with 50k steps up to 500k, runs all three servers unless told, and refuses an unknown one", () => {
    const o = parseLoadArgs(["--compare"], {});
    expect(o.steps.slice(0, 8)).toEqual([10_000, 25_000, 50_000, 100_000, 150_000, 200_000, 250_000, 300_000]);
    expect(o.servers).toEqual(["parley", "tutorial", "raw"]);
    expect(parseLoadArgs(["--compare", "--servers", "parley,raw"], {}).servers).toEqual(["parley", "raw"]);
    expect(() => parseLoadArgs(["--compare", "--servers", "parley,nginx"], {})).toThrow(/nginx/);
    expect(parseLoadArgs([], {}).steps[0]).toBe(50_000);
  });
  it("measures the CPU step in three turns per server unless told (0: once per server's own run)", () => {
    expect(parseLoadArgs(["--compare"], {}).cpuRounds).toBe(3);
    expect(parseLoadArgs(["--compare", "--cpu-rounds", "0"], {}).cpuRounds).toBe(0);
    expect(parseLoadArgs(["--compare", "--cpu-rounds", "5"], {}).cpuRounds).toBe(5);
    expect(() => parseLoadArgs(["--compare", "--cpu-rounds", "-1"], {})).toThrow(/--cpu-rounds/);
    expect(() => parseLoadArgs(["--compare", "--cpu-rounds", "1.5"], {})).toThrow(/--cpu-rounds/);
  });
  it("refuses --compare with several nodes, and bad rates", () => {
    expect(() => parseLoadArgs(["--compare", "--nodes", "3"], {})).toThrow(/--compare/);
    expect(() => parseLoadArgs(["--compare", "--ack-rate", "0"], {})).toThrow(/--ack-rate/);
  });
});
