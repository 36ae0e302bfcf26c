import { addSparse, HISTOGRAM_BUCKETS, quantileMs, type SparseHistogram } from "./load-histogram.js";

/**
 * The pure parts of `pnpm bench:load --nodes N`: which node each receiver socket is on, and how much
 * latency a hop between nodes (through Redis) adds to a delivery.
 */

/**
 * The node (0-based) receiver socket `i` connects to: round robin, so each of the N nodes holds
 * K/N sockets (the first K mod N nodes one more). Node 0 is also the senders' node.
 */
export function nodeOfReceiver(i: number, nodes: number): number {
  if (!Number.isInteger(nodes) || nodes < 1) throw new Error(`nodes must be an integer >= 1, got ${nodes}`);
  return i % nodes;
}

/** Sums the per-node sparse histograms of every receiver process into one histogram per node. */
export function mergeByNode(replies: readonly Readonly<Record<number, SparseHistogram>>[]): Map<number, Uint32Array> {
  const merged = new Map<number, Uint32Array>();
  for (const reply of replies) {
    for (const [key, sparse] of Object.entries(reply)) {
      const node = Number(key);
      let h = merged.get(node);
      if (!h) merged.set(node, (h = new Uint32Array(HISTOGRAM_BUCKETS)));
      addSparse(h, sparse);
    }
  }
  return merged;
}

export interface CrossNodeLatency {
  /** p50 delivery latency of the receivers on the senders' node, in ms. */
  sameNodeP50Ms: number;
  /** p50 delivery latency of the receivers on every other node, together, in ms. */
  otherNodesP50Ms: number;
  /** otherNodesP50Ms - sameNodeP50Ms: what the hop through Redis adds (issue 12's goal: < 5 ms). */
  addedMs: number;
  sameNodeDeliveries: number;
  otherNodesDeliveries: number;
}

/**
 * Splits per-node latency histograms into the senders' node and the rest, and compares their p50s.
 * NaN where either side has no deliveries (nothing to compare, rather than a made-up 0). Precision
 * is the histogram's: 0.1 ms below 100 ms.
 */
export function crossNodeLatency(byNode: ReadonlyMap<number, Uint32Array>, senderNode: number): CrossNodeLatency {
  const same = new Uint32Array(HISTOGRAM_BUCKETS);
  const other = new Uint32Array(HISTOGRAM_BUCKETS);
  for (const [node, h] of byNode) {
    const into = node === senderNode ? same : other;
    for (let i = 0; i < h.length; i++) into[i] = into[i]! + h[i]!;
  }
  const count = (h: Uint32Array) => h.reduce((n, c) => n + c, 0);
  const sameNodeP50Ms = quantileMs(same, 0.5);
  const otherNodesP50Ms = quantileMs(other, 0.5);
  return {
    sameNodeP50Ms,
    otherNodesP50Ms,
    // Both are bucket edges (multiples of 0.1 ms): round away the float noise of the subtraction.
    addedMs: Math.round((otherNodesP50Ms - sameNodeP50Ms) * 10) / 10,
    sameNodeDeliveries: count(same),
    otherNodesDeliveries: count(other),
  };
}

/**
 * The fixed rate (deliveries/s) at which the cross-node latency is measured: `requested` when given
 * (> 0), else a fifth of what one node sustained. Why a fifth: well below saturation, so the p50s
 * measure the path (node, Redis, node) rather than a queue; and relative to the measured maximum so
 * it stays moderate on a faster or slower machine. With no maximum (every step failed), a fifth of
 * the first step, the lowest rate the run was asked for.
 */
export function latencyRate(requested: number, oneNodeMax: number, firstStep: number): number {
  if (requested > 0) return requested;
  return Math.max(1, Math.round((oneNodeMax > 0 ? oneNodeMax : firstStep) / 5));
}
