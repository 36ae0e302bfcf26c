import { parseArgs } from "node:util";

/** The fault test's knobs. `--short` picks CI-sized defaults; any flag overrides either set. */
export interface FaultOptions {
  short: boolean;
  clients: number;
  rooms: number;
  messages: number;
  /** Edits, deletes and reactions made through the clients' outboxes, spread over the send phase. */
  changes: number;
  kills: number;
  /** Connections ended by the proxy: every other cut by FIN (`destroy`), the others by RST. */
  cuts: number;
  /** Half-open faults: some connections stop forwarding both ways with their sockets left open. */
  freezes: number;
  /** How long a freeze lasts; 0 = the server's ping interval + ping timeout + a margin, so both ends time out. */
  freezeMs: number;
  /** Clients that run with the product's default window instead of holding whole rooms. */
  windowed: number;
  /** Messages written into each room before the clients load it, so windowed clients start with a full window. */
  history: number;
  /** Messages per second over all clients (a token bucket). */
  rate: number;
  /** A client writes its next message only while fewer than this many of its sends are pending. */
  inFlight: number;
  /** Longest the send phase may take, in seconds. */
  sendTimeout: number;
  /** Longest the drain (outboxes empty, timelines caught up) may take, in seconds. */
  drainTimeout: number;
  seed: number;
  keep: boolean;
}

/**
 * Why these defaults: the long form is the acceptance run of issue 5 (>= 50 clients, 5 rooms,
 * 10,000 messages, 5 kills, 100 cuts). 80 msg/s keeps a 2-core box (server, 50 clients and the
 * proxy together) well below the 10 s ack timeout, so a failure means a bug, not an overload. The
 * short form is sized to finish in about a minute inside `pnpm test`: most of it is the freeze,
 * which must outlast the ping timeout (45 s with Socket.IO's defaults) to be noticed at all.
 * A third of the clients keep the product's default window; `history` fills each room with as
 * many messages as that window holds, so even the short run trims windows (the long run writes
 * 2,000 a room anyway, and every history message costs each whole-room client on every write).
 * Changes (issue 11) run at a third of the message count: every change is a broadcast and a
 * version like a message, and a third exercises edits, deletes and reactions on every room under
 * every fault without doubling the run.
 */
const LONG = {
  clients: 50,
  rooms: 5,
  messages: 10_000,
  changes: 3_000,
  kills: 5,
  cuts: 100,
  freezes: 3,
  windowed: 16,
  history: 300,
  rate: 80,
  inFlight: 2,
  sendTimeout: 600,
  drainTimeout: 120,
};
const SHORT = {
  clients: 20,
  rooms: 5,
  messages: 1_500,
  changes: 500,
  kills: 2,
  cuts: 20,
  freezes: 2,
  windowed: 6,
  history: 1_000,
  rate: 80,
  inFlight: 2,
  sendTimeout: 150,
  drainTimeout: 60,
};

export function parseFaultArgs(argv: string[]): FaultOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      short: { type: "boolean", default: false },
      keep: { type: "boolean", default: false },
      clients: { type: "string" },
      rooms: { type: "string" },
      messages: { type: "string" },
      changes: { type: "string" },
      kills: { type: "string" },
      cuts: { type: "string" },
      freezes: { type: "string" },
      "freeze-ms": { type: "string" },
      windowed: { type: "string" },
      history: { type: "string" },
      rate: { type: "string" },
      "in-flight": { type: "string" },
      "send-timeout": { type: "string" },
      "drain-timeout": { type: "string" },
      seed: { type: "string" },
    },
    strict: true,
  });
  const base = values.short ? SHORT : LONG;
  const num = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isFinite(n) || n < min) throw new Error(`--${name} must be a number >= ${min}, got ${raw}`);
    return n;
  };
  return {
    short: values.short,
    keep: values.keep,
    clients: num("clients", values.clients, base.clients, 1),
    rooms: num("rooms", values.rooms, base.rooms, 1),
    messages: num("messages", values.messages, base.messages, 0),
    changes: num("changes", values.changes, base.changes, 0),
    kills: num("kills", values.kills, base.kills, 0),
    cuts: num("cuts", values.cuts, base.cuts, 0),
    freezes: num("freezes", values.freezes, base.freezes, 0),
    freezeMs: num("freeze-ms", values["freeze-ms"], 0, 0),
    windowed: num("windowed", values.windowed, base.windowed, 0),
    history: num("history", values.history, base.history, 0),
    rate: num("rate", values.rate, base.rate, 1),
    inFlight: num("in-flight", values["in-flight"], base.inFlight, 1),
    sendTimeout: num("send-timeout", values["send-timeout"], base.sendTimeout, 1),
    drainTimeout: num("drain-timeout", values["drain-timeout"], base.drainTimeout, 1),
    seed: num("seed", values.seed, Math.floor(Math.random() * 2 ** 31), 0),
  };
}
