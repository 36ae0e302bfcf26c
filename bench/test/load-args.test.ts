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
  it("refuses --compare with several nodes, and bad rates", () => {
    expect(() => parseLoadArgs(["--compare", "--nodes", "3"], {})).toThrow(/--compare/);
    expect(() => parseLoadArgs(["--compare", "--ack-rate", "0"], {})).toThrow(/--ack-rate/);
  });
});
