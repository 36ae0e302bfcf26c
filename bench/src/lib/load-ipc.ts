import type { SparseHistogram } from "./load-histogram.js";

/** The IPC protocol between load.ts and its receiver processes (load-receiver.ts). */
export type ClientKind = "raw" | "socketio";

export type ParentMessage =
  /**
   * `node` labels these sockets' latencies (which server node they are on); default 0. The rest is
   * for bench:sockets (raw client only): `localAddresses[i]` is cookie i's source address;
   * `idle` sockets are not in the room under test (no row in the tally: a bench message one of them
   * gets is counted as `stray`); with `keepGoing`, a socket that fails to connect is counted in the
   * reply (`failed`) instead of failing the whole request.
   */
  | { type: "connect"; url: string; cookies: string[]; client: ClientKind; node?: number; localAddresses?: string[]; idle?: boolean; keepGoing?: boolean }
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
  /** `count`: the process's open sockets; with `keepGoing`, the request's failures and the first error. */
  | { type: "connected"; count: number; failed?: number; firstError?: string }
  | { type: "error"; message: string }
  /** `sockets`: open sockets so far (connects in progress included once done); `stray`: bench messages at idle sockets. */
  | { type: "stats"; id: number; total: number; steps: Record<number, StepStats>; sockets: number; stray: number };
