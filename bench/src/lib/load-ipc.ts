import type { SparseHistogram } from "./load-histogram.js";

/** The IPC protocol between load.ts and its receiver processes (load-receiver.ts). */
export type ClientKind = "raw" | "socketio";

export type ParentMessage =
  | { type: "connect"; url: string; cookies: string[]; client: ClientKind }
  /** Per-step counts (and histograms when asked) plus the running total of deliveries. */
  | { type: "stats"; id: number; steps: number[]; withHistograms: boolean }
  | { type: "close" };

export interface StepStats {
  count: number;
  histogram: SparseHistogram;
}

export type ReceiverMessage =
  | { type: "ready" }
  | { type: "connected"; count: number }
  | { type: "error"; message: string }
  | { type: "stats"; id: number; total: number; steps: Record<number, StepStats> };
