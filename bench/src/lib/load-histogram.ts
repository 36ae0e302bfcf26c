/**
 * A latency histogram cheap enough to record every delivery (hundreds of thousands a second):
 * 0.1 ms buckets below 100 ms, 1 ms buckets up to 60 s, everything slower in the last bucket.
 * Why not keep samples: one step at 1M deliveries/s would be 40 MB of doubles per receiver process.
 */
const FINE_LIMIT_MS = 100;
const FINE_BUCKETS = FINE_LIMIT_MS * 10;
const COARSE_BUCKETS = 60_000;
export const HISTOGRAM_BUCKETS = FINE_BUCKETS + COARSE_BUCKETS + 1;

export function bucketOf(ms: number): number {
  if (ms < 0) return 0;
  if (ms < FINE_LIMIT_MS) return Math.floor(ms * 10);
  return Math.min(FINE_BUCKETS + Math.floor(ms - FINE_LIMIT_MS), HISTOGRAM_BUCKETS - 1);
}

/** The upper edge of a bucket, in ms (a percentile is reported as its bucket's upper edge). */
export function bucketUpperMs(bucket: number): number {
  return bucket < FINE_BUCKETS ? (bucket + 1) / 10 : FINE_LIMIT_MS + (bucket - FINE_BUCKETS) + 1;
}

/** Sparse form for IPC: [bucket, count] pairs of the non-empty buckets. */
export type SparseHistogram = [number, number][];

export function toSparse(h: Uint32Array): SparseHistogram {
  const out: SparseHistogram = [];
  for (let i = 0; i < h.length; i++) if (h[i]! > 0) out.push([i, h[i]!]);
  return out;
}

export function addSparse(into: Uint32Array, sparse: SparseHistogram): void {
  for (const [bucket, count] of sparse) into[bucket] = (into[bucket] ?? 0) + count;
}

/**
 * The q-quantile (0..1) in ms. `missing` deliveries (never arrived before the drain deadline) count
 * as slower than anything recorded: they are reported as Infinity once they reach the quantile.
 */
export function quantileMs(h: Uint32Array, q: number, missing = 0): number {
  let total = missing;
  for (let i = 0; i < h.length; i++) total += h[i]!;
  if (total === 0) return NaN;
  const rank = Math.ceil(q * total);
  let seen = 0;
  for (let i = 0; i < h.length; i++) {
    seen += h[i]!;
    if (seen >= rank) return bucketUpperMs(i);
  }
  return Infinity;
}
