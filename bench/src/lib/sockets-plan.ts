import { parseArgs } from "node:util";

/** bench:sockets' knobs; the defaults are issue 15's: 100,000 sockets, 1,000 of them in the room. */
export interface SocketsOptions {
  /** Sockets the receiver processes hold: the room's plus the idle ones. */
  sockets: number;
  /** Of those, the sockets in the room the messages go to (tabs of `roomAccounts`). */
  roomSockets: number;
  /** Accounts whose tabs the room sockets are (round-robin); members of the bench's room. */
  roomAccounts: number;
  /** Accounts whose tabs the idle sockets are; members of `general` only, never of the bench's room. */
  idleAccounts: number;
  /** Sending sockets (socket.io-client, in the bench process): tabs of the first room accounts. */
  senders: number;
  /** Receiver processes the sockets are spread over; 0: one per PROC_SOCKETS sockets, at least 2. */
  procs: number;
  /** Source addresses (127.0.0.2, …); 0: enough for CONNECTIONS_PER_ADDRESS each (see there). */
  addresses: number;
  /** Messages per second into the room during the measurement. */
  rate: number;
  /** How long the measurement sends. */
  seconds: number;
  bodyLength: number;
  /** The server's --max-old-space-size, in MB. */
  serverHeapMb: number;
  /** Server on cpu 0, this process and its receivers on the last cpu (`--no-pin`: anywhere). */
  pin: boolean;
}

/**
 * Sockets per receiver process when --procs is not given. Why 12,500: 100,000 sockets make 8
 * processes, each well under a 20,000 open-files limit (the one this bench was written on), and
 * each event loop keeps a few thousand pings a second at most.
 */
export const PROC_SOCKETS = 12_500;

export function parseSocketsArgs(argv: string[]): SocketsOptions {
  const { values } = parseArgs({
    args: argv,
    options: {
      sockets: { type: "string" },
      "room-sockets": { type: "string" },
      "room-accounts": { type: "string" },
      "idle-accounts": { type: "string" },
      senders: { type: "string" },
      procs: { type: "string" },
      addresses: { type: "string" },
      rate: { type: "string" },
      seconds: { type: "string" },
      "body-length": { type: "string" },
      "server-heap-mb": { type: "string" },
      "no-pin": { type: "boolean" },
    },
    strict: true,
  });
  const int = (name: string, raw: string | undefined, fallback: number, min: number) => {
    if (raw === undefined) return fallback;
    const n = Number(raw);
    if (!Number.isInteger(n) || n < min) throw new Error(`--${name} must be an integer >= ${min}, got ${raw}`);
    return n;
  };
  const sockets = int("sockets", values.sockets, 100_000, 1);
  const roomSockets = int("room-sockets", values["room-sockets"], Math.min(1_000, sockets), 1);
  if (roomSockets > sockets) throw new Error(`--room-sockets (${roomSockets}) cannot exceed --sockets (${sockets})`);
  const roomAccounts = int("room-accounts", values["room-accounts"], Math.min(20, roomSockets), 1);
  if (roomAccounts > roomSockets) throw new Error(`--room-accounts (${roomAccounts}) cannot exceed --room-sockets (${roomSockets})`);
  const idle = sockets - roomSockets;
  const idleAccounts = int("idle-accounts", values["idle-accounts"], Math.min(20, Math.max(idle, 1)), 1);
  if (idle > 0 && idleAccounts > idle) throw new Error(`--idle-accounts (${idleAccounts}) cannot exceed the idle sockets (${idle})`);
  const addresses = int("addresses", values.addresses, 0, 0);
  // 127.0.0.2 … 127.0.0.254: the last octet stays inside one /24.
  if (addresses > MAX_ADDRESSES) throw new Error(`--addresses must be at most ${MAX_ADDRESSES}, got ${addresses}`);
  return {
    sockets,
    roomSockets,
    roomAccounts,
    idleAccounts: idle > 0 ? idleAccounts : 0,
    senders: int("senders", values.senders, 2, 1),
    procs: int("procs", values.procs, 0, 0),
    addresses,
    rate: int("rate", values.rate, 100, 1),
    seconds: int("seconds", values.seconds, 10, 1),
    bodyLength: int("body-length", values["body-length"], 100, 24),
    serverHeapMb: int("server-heap-mb", values["server-heap-mb"], 8_192, 256),
    pin: !(values["no-pin"] ?? false),
  };
}

export const autoProcs = (sockets: number): number => Math.max(2, Math.ceil(sockets / PROC_SOCKETS));

const MAX_ADDRESSES = 253;

/**
 * Connections per source address at most. Why 2,500: an explicit source address means the kernel
 * picks the ephemeral port at bind(), and that search slows down as the address's ports fill up:
 * measured here (Linux 6.18, range 32768-60999), one fresh address took ~5,000 connects/s up to
 * 5,000 connections, then 200/s and less (15,000 took 49 s), while the same 15,000 spread over 8
 * addresses took 4 s. Addresses cost nothing (all of 127.0.0.0/8 is loopback), so the bench uses
 * many and keeps each well below the knee.
 */
export const CONNECTIONS_PER_ADDRESS = 2_500;

/**
 * Source addresses for `connections` loopback connections to one server port: 127.0.0.2,
 * 127.0.0.3, … (`count` of them, or enough that each carries at most CONNECTIONS_PER_ADDRESS and
 * at most half the `ports` of ip_local_port_range). The kernel has one ephemeral port range per
 * (source address, destination address and port), about 28,000 ports by default, so 100,000
 * connections to one port cannot come from one address; what a previous run left in TIME_WAIT (on
 * the client side, which closes first) also keeps ports of an address busy for 60 s. Not 127.0.0.1:
 * the other benches' connections use its ports.
 */
export function sourceAddresses(connections: number, ports: number, count = 0): string[] {
  const perAddress = Math.min(CONNECTIONS_PER_ADDRESS, Math.floor(ports / 2));
  if (perAddress < 1) throw new Error(`no ports to use: ${ports} in the range`);
  const n = count > 0 ? count : Math.max(1, Math.ceil(connections / perAddress));
  if (n > MAX_ADDRESSES) throw new Error(`${connections} connections need ${n} source addresses (${perAddress} each), more than ${MAX_ADDRESSES}`);
  return Array.from({ length: n }, (_, i) => `127.0.0.${i + 2}`);
}

/**
 * Open files a process needs beyond its sockets: the server's SQLite database, WAL and shared
 * memory, its listener, libuv's epoll and wake-up pipes, stdio, the log; a receiver's IPC channel.
 * Generous, because running out means refused connections that look like a server bug.
 */
export const FD_MARGIN = 512;

/** The open-files limit the server and each receiver process need. */
export function fdNeeds(opts: Pick<SocketsOptions, "sockets" | "senders" | "roomAccounts">, procs: number): { server: number; receiver: number } {
  return {
    // Every bench socket, the senders and the room set-up sockets (closed, but maybe not yet).
    server: opts.sockets + opts.senders + opts.roomAccounts + FD_MARGIN,
    receiver: Math.ceil(opts.sockets / procs) + FD_MARGIN,
  };
}

/** The most bench sockets a server with open-files limit `limit` can hold (the inverse of fdNeeds). */
export const maxSocketsFor = (limit: number, opts: Pick<SocketsOptions, "senders" | "roomAccounts">): number =>
  Math.max(0, limit - opts.senders - opts.roomAccounts - FD_MARGIN);

/** One socket of the plan: which account's tab it is (index into the signed-in accounts) and where it connects from. */
export interface SocketSlot {
  account: number;
  address: string;
}

/** What one receiver process connects: its room sockets first, then its idle ones. */
export interface ProcPlan {
  room: SocketSlot[];
  idle: SocketSlot[];
}

/**
 * Deals the sockets out. Socket g (0 … sockets-1): the first `roomSockets` are the room's, tabs of
 * accounts 0 … roomAccounts-1 in turn; the rest idle, tabs of accounts roomAccounts … in turn.
 * Socket g goes to process g mod procs (so every process holds its share of the room, and the
 * receiving work is spread) and connects from address g mod addresses.
 */
export function planSockets(opts: Pick<SocketsOptions, "sockets" | "roomSockets" | "roomAccounts" | "idleAccounts">, procs: number, addresses: readonly string[]): ProcPlan[] {
  if (procs < 1 || addresses.length < 1) throw new Error("need at least one process and one address");
  const plan: ProcPlan[] = Array.from({ length: procs }, () => ({ room: [], idle: [] }));
  for (let g = 0; g < opts.sockets; g++) {
    const address = addresses[g % addresses.length]!;
    const proc = plan[g % procs]!;
    if (g < opts.roomSockets) proc.room.push({ account: g % opts.roomAccounts, address });
    else proc.idle.push({ account: opts.roomAccounts + ((g - opts.roomSockets) % opts.idleAccounts), address });
  }
  return plan;
}

/**
 * A sample's value from Prometheus text exposition: the first line `name value` or `name{…} value`
 * (with `label`, e.g. `kind="major"`, only a line whose labels include it); NaN when absent. Enough
 * for the server's gauges (socket count, heap, event-loop lag) and GC sums.
 */
export function metricValue(exposition: string, name: string, label?: string): number {
  for (const line of exposition.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== " " && rest[0] !== "{") continue;
    const close = rest[0] === "{" ? rest.indexOf("}") : -1;
    if (label !== undefined && (close < 0 || !rest.slice(1, close).split(",").includes(label))) continue;
    return Number(rest.slice(close + 1).trim().split(/\s+/)[0]);
  }
  return NaN;
}

/** What a run measured. */
export interface SocketsResult {
  connected: number;
  room: number;
  rssBytes: number;
  /** Server RSS growth per connected socket, in bytes. */
  bytesPerSocket: number;
  msgs: number;
  deliveries: number;
  lost: number;
  duplicated: number;
  p50Ms: number;
  p99Ms: number;
  connectSeconds: number;
}

const fmtMs = (ms: number) => (Number.isFinite(ms) ? (ms < 10 ? ms.toFixed(1) : String(Math.round(ms))) : String(ms));

/** The line the bench ends with. */
export function socketsLine(r: SocketsResult): string {
  return (
    `sockets: connected=${r.connected} room=${r.room} rss_mb=${Math.round(r.rssBytes / 2 ** 20)} kb_per_socket=${(r.bytesPerSocket / 1024).toFixed(1)} ` +
    `msgs=${r.msgs} deliveries=${r.deliveries} lost=${r.lost} duplicated=${r.duplicated} p50_ms=${fmtMs(r.p50Ms)} p99_ms=${fmtMs(r.p99Ms)} ` +
    `connect_s=${r.connectSeconds.toFixed(1)}`
  );
}

/** Why the run failed (empty: it did not): the exit code is 1 when anything is listed. */
export function failures(r: SocketsResult, wanted: { sockets: number; roomSockets: number }, extra: { stray: number; failedAcks: number }): string[] {
  return [
    r.connected < wanted.sockets && `${wanted.sockets - r.connected} of ${wanted.sockets} sockets not connected`,
    r.room < wanted.roomSockets && `${wanted.roomSockets - r.room} of ${wanted.roomSockets} room sockets not connected`,
    r.lost > 0 && `${r.lost} deliveries lost`,
    r.duplicated > 0 && `${r.duplicated} deliveries duplicated`,
    extra.stray > 0 && `${extra.stray} messages delivered to sockets outside the room`,
    extra.failedAcks > 0 && `${extra.failedAcks} sends not acked`,
  ].filter((f): f is string => typeof f === "string");
}
