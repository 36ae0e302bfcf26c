/**
 * A receiver process of `pnpm bench:load` and `pnpm bench:sockets` (forked by load.ts and sockets.ts, driven over IPC): it connects its
 * share of the K clients and records, per step, which message each client got (DeliveryTally: a
 * duplicate is counted as one, never as a delivery) and the latency of each first delivery.
 * A separate process so that receiving (the bulk of the bench's own work: K deliveries per message)
 * does not share an event loop with the senders' pacing and the orchestration.
 */
import { SOCKET_PATH } from "@parley/shared";
import { io as ioClient, type Socket } from "socket.io-client";
import { mapLimit } from "./wait.js";
import { bucketOf, HISTOGRAM_BUCKETS, toSparse } from "./load-histogram.js";
import { DeliveryTally } from "./load-tally.js";
import { connectRawReceiver, nowMicros, parseBody, type OnDelivery } from "./load-wire.js";
import type { ParentMessage, ReceiverMessage, StepStats } from "./load-ipc.js";

const histograms = new Map<number, Uint32Array>();
/** step -> node label -> histogram: the same latencies split by the server node a socket is on. */
const nodeHistograms = new Map<number, Map<number, Uint32Array>>();
const tally = new DeliveryTally();
/** First deliveries over every step (duplicates excluded), for the parent's deliveries per second. */
let total = 0;
const closers: (() => void)[] = [];
/** Bench messages delivered to idle sockets (bench:sockets), which are not in the room they were sent to. */
let stray = 0;
const onStray: OnDelivery = () => void stray++;

/**
 * One client's delivery callback: its own row in the tally (`receiver`, for `tally.drop` if it
 * never connects), its latencies also under its `node`.
 */
const receiverFor = (node: number): { receiver: number; onDelivery: OnDelivery } => {
  const receiver = tally.addReceiver();
  const onDelivery: OnDelivery = (step, sentMicros, n, receivedMicros) => {
    // A duplicate adds nothing to the counts or the latency: it is only counted as a duplicate.
    if (!tally.record(receiver, step, n)) return;
    total++;
    let h = histograms.get(step);
    if (!h) histograms.set(step, (h = new Uint32Array(HISTOGRAM_BUCKETS)));
    const i = bucketOf((receivedMicros - sentMicros) / 1000);
    h[i] = h[i]! + 1;
    let byNode = nodeHistograms.get(step);
    if (!byNode) nodeHistograms.set(step, (byNode = new Map()));
    let hn = byNode.get(node);
    if (!hn) byNode.set(node, (hn = new Uint32Array(HISTOGRAM_BUCKETS)));
    hn[i] = hn[i]! + 1;
  };
  return { receiver, onDelivery };
};

function connectSocketIo(url: string, cookie: string, onDelivery: OnDelivery): Promise<() => void> {
  const socket: Socket = ioClient(url, {
    path: SOCKET_PATH,
    extraHeaders: { cookie },
    transports: ["websocket"],
    forceNew: true,
    reconnection: false,
    timeout: 20_000,
  });
  socket.on("message:created", (m: { body?: unknown }) => {
    const parsed = typeof m.body === "string" ? parseBody(m.body) : null;
    if (parsed) onDelivery(parsed.step, parsed.sentMicros, parsed.n, nowMicros());
  });
  return new Promise((resolve, reject) => {
    socket.once("connect", () => resolve(() => socket.close()));
    socket.once("connect_error", (e) => {
      socket.close();
      reject(e);
    });
  });
}

const send = (m: ReceiverMessage) => process.send?.(m);

process.on("message", (raw) => {
  const m = raw as ParentMessage;
  if (m.type === "connect") {
    const port = Number(new URL(m.url).port);
    let failed = 0;
    let firstError: string | undefined;
    mapLimit(m.cookies, 32, async (cookie, i) => {
      const row = m.idle ? null : receiverFor(m.node ?? 0);
      const onDelivery = row?.onDelivery ?? onStray;
      try {
        if (m.client === "raw") {
          const localAddress = m.localAddresses?.[i];
          const r = await connectRawReceiver(port, cookie, onDelivery, localAddress === undefined ? {} : { localAddress });
          closers.push(() => r.close());
        } else {
          closers.push(await connectSocketIo(m.url, cookie, onDelivery));
        }
      } catch (e) {
        if (!m.keepGoing) throw e;
        failed++;
        firstError ??= String(e);
        if (row) tally.drop(row.receiver);
      }
    }).then(
      () => send({ type: "connected", count: closers.length, ...(m.keepGoing && { failed, ...(firstError !== undefined && { firstError }) }) }),
      (e: unknown) => send({ type: "error", message: String(e) }),
    );
  } else if (m.type === "stats") {
    const steps: Record<number, StepStats> = {};
    m.steps.forEach((step, i) => {
      const h = histograms.get(step);
      const issued = m.issued?.[i];
      steps[step] = {
        count: tally.count(step),
        duplicated: tally.duplicates(step),
        histogram: m.withHistograms && h ? toSparse(h) : [],
        ...(issued !== undefined && tally.check(step, issued)),
        ...(m.byNode && { byNode: Object.fromEntries([...(nodeHistograms.get(step) ?? [])].map(([node, hn]) => [node, toSparse(hn)])) }),
      };
    });
    send({ type: "stats", id: m.id, total, steps, sockets: closers.length, stray });
  } else if (m.type === "close") {
    for (const close of closers) close();
    process.disconnect?.();
    setTimeout(() => process.exit(0), 200).unref();
  }
});
// The parent died or closed the channel: never outlive it.
process.on("disconnect", () => process.exit(0));
send({ type: "ready" });
