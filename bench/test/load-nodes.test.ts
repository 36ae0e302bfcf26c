import { describe, expect, it } from "vitest";
import { parseLoadArgs } from "../src/lib/load-args.js";
import { bucketOf, HISTOGRAM_BUCKETS, toSparse, type SparseHistogram } from "../src/lib/load-histogram.js";
import { crossNodeLatency, latencyRate, mergeByNode, nodeOfReceiver } from "../src/lib/load-nodes.js";

/** A histogram holding `count` deliveries at each of `latenciesMs`. */
function histogram(latenciesMs: number[], count = 1): Uint32Array {
  const h = new Uint32Array(HISTOGRAM_BUCKETS);
  for (const ms of latenciesMs) h[bucketOf(ms)] = h[bucketOf(ms)]! + count;
  return h;
}

describe("nodeOfReceiver", () => {
  it.each([
    { clients: 6, nodes: 1, want: [0, 0, 0, 0, 0, 0] },
    { clients: 6, nodes: 3, want: [0, 1, 2, 0, 1, 2] },
    // K not a multiple of N: the first K mod N nodes get one more.
    { clients: 7, nodes: 3, want: [0, 1, 2, 0, 1, 2, 0] },
  ])("spreads $clients sockets over $nodes nodes evenly", ({ clients, nodes, want }) => {
    expect(Array.from({ length: clients }, (_, i) => nodeOfReceiver(i, nodes))).toEqual(want);
  });

  it.each([0, -1, 1.5])("refuses %s nodes", (nodes) => {
    expect(() => nodeOfReceiver(0, nodes)).toThrow(/nodes must be an integer/);
  });
});

describe("mergeByNode", () => {
  it("sums each node's histograms over the receiver processes", () => {
    const a: Record<number, SparseHistogram> = { 0: toSparse(histogram([1, 2])), 1: toSparse(histogram([5])) };
    const b: Record<number, SparseHistogram> = { 1: toSparse(histogram([5, 7])), 2: toSparse(histogram([9])) };
    const merged = mergeByNode([a, b, {}]);
    expect([...merged.keys()].sort()).toEqual([0, 1, 2]);
    expect(merged.get(1)![bucketOf(5)]).toBe(2);
    expect(merged.get(1)![bucketOf(7)]).toBe(1);
    expect(merged.get(0)!.reduce((n, c) => n + c, 0)).toBe(2);
  });
});

describe("crossNodeLatency", () => {
  it.each([
    {
      name: "the other nodes' p50 minus the sender node's",
      byNode: { 0: histogram([2, 2, 2]), 1: histogram([5, 5, 5]), 2: histogram([5, 5, 5]) },
      want: { sameNodeP50Ms: 2.1, otherNodesP50Ms: 5.1, addedMs: 3, sameNodeDeliveries: 3, otherNodesDeliveries: 6 },
    },
    {
      // The other nodes are pooled, not averaged: node 2's few slow deliveries do not move the p50.
      name: "the other nodes pooled into one distribution",
      byNode: { 0: histogram([1]), 1: histogram([3], 9), 2: histogram([40]) },
      want: { sameNodeP50Ms: 1.1, otherNodesP50Ms: 3.1, addedMs: 2, sameNodeDeliveries: 1, otherNodesDeliveries: 10 },
    },
    {
      // Noise can make the hop look free or negative; reported as measured, not clamped.
      name: "a negative difference as it is",
      byNode: { 0: histogram([4]), 1: histogram([3.5]) },
      want: { sameNodeP50Ms: 4.1, otherNodesP50Ms: 3.6, addedMs: -0.5, sameNodeDeliveries: 1, otherNodesDeliveries: 1 },
    },
    {
      name: "NaN when no receiver is on another node",
      byNode: { 0: histogram([2]) },
      want: { sameNodeP50Ms: 2.1, otherNodesP50Ms: NaN, addedMs: NaN, sameNodeDeliveries: 1, otherNodesDeliveries: 0 },
    },
  ])("$name", ({ byNode, want }) => {
    const map = new Map(Object.entries(byNode).map(([k, h]) => [Number(k), h]));
    expect(crossNodeLatency(map, 0)).toEqual(want);
  });

  it("takes the senders' node as given, not as node 0", () => {
    const map = new Map([
      [0, histogram([5])],
      [1, histogram([2])],
    ]);
    expect(crossNodeLatency(map, 1)).toMatchObject({ sameNodeP50Ms: 2.1, otherNodesP50Ms: 5.1, addedMs: 3 });
  });
});

describe("latencyRate", () => {
  it.each([
    { requested: 5_000, oneNodeMax: 200_000, firstStep: 50_000, want: 5_000 },
    { requested: 0, oneNodeMax: 200_000, firstStep: 50_000, want: 40_000 },
    { requested: 0, oneNodeMax: 0, firstStep: 50_000, want: 10_000 },
    { requested: 0, oneNodeMax: 3, firstStep: 50_000, want: 1 },
  ])("requested=$requested max=$oneNodeMax first=$firstStep -> $want", ({ requested, oneNodeMax, firstStep, want }) => {
    expect(latencyRate(requested, oneNodeMax, firstStep)).toBe(want);
  });
});

describe("parseLoadArgs --nodes", () => {
  const env = { PARLEY_TEST_PG_URL: "postgres://u:p@127.0.0.1:5432/postgres" };
  it.each([
    { argv: [], want: { nodes: 1, pgUrl: env.PARLEY_TEST_PG_URL, latencyRate: 0, latencySeconds: 5 } },
    { argv: ["--nodes", "3"], want: { nodes: 3 } },
    { argv: ["--nodes", "3", "--pg-url", "postgres://x@127.0.0.1/db", "--latency-rate", "2000", "--latency-seconds", "3"], want: { nodes: 3, pgUrl: "postgres://x@127.0.0.1/db", latencyRate: 2000, latencySeconds: 3 } },
  ])("$argv", ({ argv, want }) => {
    expect(parseLoadArgs(argv, env)).toMatchObject(want);
  });

  it("falls back to the local PostgreSQL without PARLEY_TEST_PG_URL", () => {
    expect(parseLoadArgs([], {}).pgUrl).toBe("postgres://parley:parley@127.0.0.1:5432/postgres");
  });

  it.each([["0"], ["1.5"], ["x"]])("refuses --nodes %s", (n) => {
    expect(() => parseLoadArgs(["--nodes", n], env)).toThrow(/--nodes/);
  });

  it("leaves today's options as they were", () => {
    expect(parseLoadArgs(["--clients", "50"], env)).toMatchObject({ clients: 50, users: 50, steps: expect.any(Array) as unknown, nodes: 1 });
  });
});
