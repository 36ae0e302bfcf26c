import { describe, expect, it } from "vitest";
import { hasCapSysResource, parseCpuSeconds, parseCpuTimes, parseNofile, parseRunQueueSeconds, parseVmRss, portRangeSize } from "../src/lib/linux-limits.js";
import {
  autoProcs,
  failures,
  FD_MARGIN,
  fdNeeds,
  maxSocketsFor,
  metricValue,
  parseSocketsArgs,
  planSockets,
  socketsLine,
  sourceAddresses,
  type SocketsResult,
} from "../src/lib/sockets-plan.js";

describe("parseSocketsArgs", () => {
  it("defaults to issue 15's run: 100,000 sockets, a room of 1,000, 100 msg/s for 10 s", () => {
    expect(parseSocketsArgs([])).toEqual({
      sockets: 100_000,
      roomSockets: 1_000,
      roomAccounts: 20,
      idleAccounts: 20,
      senders: 2,
      procs: 0,
      addresses: 0,
      rate: 100,
      seconds: 10,
      bodyLength: 100,
      serverHeapMb: 8_192,
      pin: true,
    });
    expect(parseSocketsArgs(["--no-pin"]).pin).toBe(false);
  });
  it("shrinks the room and the accounts to a small run", () => {
    expect(parseSocketsArgs(["--sockets", "500"])).toMatchObject({ sockets: 500, roomSockets: 500, roomAccounts: 20, idleAccounts: 0 });
    expect(parseSocketsArgs(["--sockets", "5000", "--room-sockets", "10"])).toMatchObject({ roomSockets: 10, roomAccounts: 10, idleAccounts: 20 });
  });
  it("refuses what cannot be dealt out", () => {
    expect(() => parseSocketsArgs(["--sockets", "100", "--room-sockets", "200"])).toThrow(/--room-sockets/);
    expect(() => parseSocketsArgs(["--room-sockets", "10", "--room-accounts", "11"])).toThrow(/--room-accounts/);
    expect(() => parseSocketsArgs(["--sockets", "1005", "--idle-accounts", "6"])).toThrow(/--idle-accounts/);
    expect(() => parseSocketsArgs(["--sockets", "1.5"])).toThrow(/integer/);
    expect(() => parseSocketsArgs(["--addresses", "300"])).toThrow(/--addresses/);
    expect(() => parseSocketsArgs(["--nope"])).toThrow();
  });
});

describe("sourceAddresses", () => {
  it("gives each address at most 2,500 connections (and at most half the port range), from 127.0.0.2", () => {
    expect(sourceAddresses(100_000, 28_232)).toHaveLength(40);
    expect(sourceAddresses(100_000, 28_232).at(-1)).toBe("127.0.0.41");
    expect(sourceAddresses(2_500, 28_232)).toEqual(["127.0.0.2"]);
    expect(sourceAddresses(2_501, 28_232)).toEqual(["127.0.0.2", "127.0.0.3"]);
    // A narrow range: half of it per address.
    expect(sourceAddresses(3_000, 2_000)).toHaveLength(3);
    expect(sourceAddresses(10, 28_232, 4)).toEqual(["127.0.0.2", "127.0.0.3", "127.0.0.4", "127.0.0.5"]);
  });
  it("refuses more addresses than one /24 holds", () => {
    expect(() => sourceAddresses(1_000_000, 28_232)).toThrow(/source addresses/);
  });
});

describe("planSockets", () => {
  const opts = { sockets: 10, roomSockets: 4, roomAccounts: 2, idleAccounts: 3 };
  it("deals room sockets to the room accounts and the rest to the idle ones, round-robin over processes and addresses", () => {
    const plan = planSockets(opts, 2, ["a", "b", "c"]);
    expect(plan[0]).toEqual({
      room: [
        { account: 0, address: "a" },
        { account: 0, address: "c" },
      ],
      idle: [
        { account: 2, address: "b" },
        { account: 4, address: "a" },
        { account: 3, address: "c" },
      ],
    });
    expect(plan[1]!.room.map((s) => s.account)).toEqual([1, 1]);
    expect(plan[1]!.idle.map((s) => s.account)).toEqual([3, 2, 4]);
  });
  it("places every socket once: the room's sockets and accounts never mix with the idle ones", () => {
    const plan = planSockets({ sockets: 100_000, roomSockets: 1_000, roomAccounts: 20, idleAccounts: 20 }, 8, sourceAddresses(100_000, 28_232));
    const room = plan.flatMap((p) => p.room);
    const idle = plan.flatMap((p) => p.idle);
    expect(room).toHaveLength(1_000);
    expect(idle).toHaveLength(99_000);
    expect(new Set(room.map((s) => s.account))).toEqual(new Set(Array.from({ length: 20 }, (_, i) => i)));
    expect(idle.every((s) => s.account >= 20 && s.account < 40)).toBe(true);
    for (const p of plan) expect(p.room).toHaveLength(125);
    const perAddress = new Map<string, number>();
    for (const s of [...room, ...idle]) perAddress.set(s.address, (perAddress.get(s.address) ?? 0) + 1);
    expect(Math.max(...perAddress.values())).toBe(2_500);
  });
});

describe("open files", () => {
  it("needs a file per socket plus a margin, and says what a limit allows", () => {
    const opts = { sockets: 100_000, senders: 2, roomAccounts: 20 };
    expect(fdNeeds(opts, 8)).toEqual({ server: 100_022 + FD_MARGIN, receiver: 12_500 + FD_MARGIN });
    expect(maxSocketsFor(fdNeeds(opts, 8).server, opts)).toBe(100_000);
    expect(maxSocketsFor(20_000, opts)).toBe(20_000 - 22 - FD_MARGIN);
    expect(maxSocketsFor(100, opts)).toBe(0);
    expect(autoProcs(100_000)).toBe(8);
    expect(autoProcs(5_000)).toBe(2);
  });
});

describe("/proc parsing", () => {
  it("reads the open-files row of /proc/<pid>/limits", () => {
    const limits = [
      "Limit                     Soft Limit           Hard Limit           Units     ",
      "Max processes             unlimited            unlimited            processes ",
      "Max open files            20000                20000                files     ",
    ].join("\n");
    expect(parseNofile(limits)).toEqual({ soft: 20_000, hard: 20_000 });
    expect(parseNofile("Max open files            1024                 unlimited            files")).toEqual({ soft: 1024, hard: Infinity });
    expect(() => parseNofile("nothing")).toThrow();
  });
  it("reads VmRSS, the port range and CAP_SYS_RESOURCE", () => {
    expect(parseVmRss("Name:\tnode\nVmRSS:\t  123456 kB\nVmData: 1 kB")).toBe(123_456 * 1024);
    expect(portRangeSize("32768\t60999\n")).toBe(28_232);
    expect(() => portRangeSize("60999 32768")).toThrow();
    // Full root capabilities (bit 24 set), and a container that dropped CAP_SYS_RESOURCE.
    expect(hasCapSysResource("CapEff:\t000001ffffffffff\n")).toBe(true);
    expect(hasCapSysResource("CapEff:\t000001fffeffffff\n")).toBe(false);
    expect(hasCapSysResource("")).toBe(false);
  });
  it("reads CPU seconds from /proc/<pid>/stat, a command name with spaces and parentheses included", () => {
    const stat = "2564 (node (x) y) S 1 2564 2564 0 -1 4194560 51234 0 0 0 1234 567 0 0 20 0 11 0 6543210 1000 200 18446744073709551615";
    expect(parseCpuSeconds(stat)).toBeCloseTo(18.01);
    expect(parseCpuTimes(stat)).toEqual({ user: 12.34, system: 5.67 });
    expect(parseRunQueueSeconds("5312000000 1500000000 4200\n")).toBe(1.5);
  });
});

describe("metricValue", () => {
  const text = [
    "# HELP parley_socket_connections Socket.IO connections",
    "# TYPE parley_socket_connections gauge",
    "parley_socket_connections 100002",
    "parley_socket_connections_total 7",
    'nodejs_gc_duration_seconds_sum{kind="minor"} 1.5',
    'nodejs_gc_duration_seconds_sum{kind="major"} 0.25',
    'nodejs_heap_size_used_bytes{app="parley"} 123',
  ].join("\n");
  it("reads a sample by name, and by label", () => {
    expect(metricValue(text, "parley_socket_connections")).toBe(100_002);
    expect(metricValue(text, "nodejs_gc_duration_seconds_sum")).toBe(1.5);
    expect(metricValue(text, "nodejs_gc_duration_seconds_sum", 'kind="major"')).toBe(0.25);
    expect(metricValue(text, "nodejs_heap_size_used_bytes")).toBe(123);
    expect(metricValue(text, "parley_absent")).toBeNaN();
    expect(metricValue(text, "nodejs_gc_duration_seconds_sum", 'kind="none"')).toBeNaN();
  });
});

describe("the result", () => {
  const ok: SocketsResult = {
    connected: 100_000,
    room: 1_000,
    rssBytes: 3_500 * 2 ** 20,
    bytesPerSocket: 35.2 * 1024,
    msgs: 1_000,
    deliveries: 1_000_000,
    lost: 0,
    duplicated: 0,
    p50Ms: 4.25,
    p99Ms: 181.4,
    connectSeconds: 62.34,
  };
  it("prints the line", () => {
    expect(socketsLine(ok)).toBe(
      "sockets: connected=100000 room=1000 rss_mb=3500 kb_per_socket=35.2 msgs=1000 deliveries=1000000 lost=0 duplicated=0 p50_ms=4.3 p99_ms=181 connect_s=62.3",
    );
  });
  it("fails on a socket not connected, a loss, a duplicate, a stray delivery or a failed ack", () => {
    const wanted = { sockets: 100_000, roomSockets: 1_000 };
    const clean = { stray: 0, failedAcks: 0 };
    expect(failures(ok, wanted, clean)).toEqual([]);
    expect(failures({ ...ok, connected: 99_990, room: 999 }, wanted, clean)).toEqual(["10 of 100000 sockets not connected", "1 of 1000 room sockets not connected"]);
    expect(failures({ ...ok, lost: 3, duplicated: 1 }, wanted, { stray: 2, failedAcks: 1 })).toHaveLength(4);
  });
});
