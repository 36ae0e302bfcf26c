import type { SparseHistogram } from "./load-histogram.js";

/** The IPC protocol between load.ts and its receiver processes (load-receiver.ts). */
export type ClientKind = "raw" | "socketio";

export type ParentMessage =
  /** `node` labels these sockets' latencies (which server node they are on); default 0. */
  | { type: "connect"; url: string; cookies: string[]; client: ClientKind; node?: number }
  /**
   * Per-step counts (and histograms when asked) plus the running total of deliveries. With
   * `issued` (how many messages each step of `steps` sent), also what was lost and unexpected.
   */
  | { type: "stats"; id: number; steps: number[]; withHistograms: boolean; issued?: number[]; byNode?: boolean }
  | { type: "close" };

export interface StepStats {
  /** Deliveries, each (client, message) counted once. */
  count: number;
  /** Deliveries of a message the client already had. */
  duplicated: number;
  histogram: SparseHistogram;
  /** Only when `byNode` was asked for: the latency histogram per node label. */
  byNode?: Record<number, SparseHistogram>;
  /** Only when `issued` was asked for: (client, message) pairs never delivered. */
  lost?: number;
  /** Only when `issued` was asked for: deliveries of a message number that was never issued. */
  unexpected?: number;
}

export type ReceiverMessage =
  | { type: "ready" }
  | { type: "connected"; count: number }
  | { type: "error"; message: string }
  | { type: "stats"; id: number; total: number; steps: Record<number, StepStats> };
