import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { sleep } from "./wait.js";

/**
 * What the kernel allows bench:sockets, read from /proc (Linux only): open files per process, the
 * ephemeral port range, the system-wide file table, conntrack; and raising this process's own
 * open-files limit, which every child started afterwards inherits.
 */

export interface NofileLimit {
  soft: number;
  hard: number;
}

/** The `Max open files` row of /proc/<pid>/limits; "unlimited" is Infinity. */
export function parseNofile(limits: string): NofileLimit {
  const row = /^Max open files\s+(\S+)\s+(\S+)\s+files\s*$/m.exec(limits);
  if (!row) throw new Error("no 'Max open files' row in the limits");
  const value = (s: string) => (s === "unlimited" ? Infinity : Number(s));
  return { soft: value(row[1]!), hard: value(row[2]!) };
}

export const nofileOf = (pid: number | "self"): NofileLimit => parseNofile(readFileSync(`/proc/${pid}/limits`, "utf8"));

/** VmRSS of /proc/<pid>/status, in bytes. */
export function parseVmRss(status: string): number {
  const kb = /^VmRSS:\s+(\d+) kB$/m.exec(status)?.[1];
  if (!kb) throw new Error("no VmRSS in the status");
  return Number(kb) * 1024;
}

/** The resident set of a process, in bytes. */
export const rssOf = (pid: number): number => parseVmRss(readFileSync(`/proc/${pid}/status`, "utf8"));

/**
 * A process's VmRSS once it stops moving (two samples a second apart within 0.5 %), or the last
 * sample after `maxMs`: what bench:memory and bench:sockets report.
 */
export async function settledRss(pid: number, maxMs = 30_000): Promise<number> {
  const until = Date.now() + maxMs;
  let last = rssOf(pid);
  while (Date.now() < until) {
    await sleep(1_000);
    const now = rssOf(pid);
    if (Math.abs(now - last) / last < 0.005) return now;
    last = now;
  }
  return last;
}

/** Ports in /proc/sys/net/ipv4/ip_local_port_range ("32768\t60999": 28,232). */
export function portRangeSize(text: string): number {
  const [low, high] = text.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(low) || !Number.isInteger(high) || high! < low!) throw new Error(`not a port range: ${JSON.stringify(text)}`);
  return high! - low! + 1;
}

/**
 * Whether the CapEff line of /proc/<pid>/status has CAP_SYS_RESOURCE (capability 24), the one that
 * lets a process raise a hard resource limit. Root without it (a container that drops it) cannot
 * raise `ulimit -Hn` at all.
 */
export function hasCapSysResource(status: string): boolean {
  const hex = /^CapEff:\s+([0-9a-f]+)$/im.exec(status)?.[1];
  if (!hex) return false;
  return (BigInt(`0x${hex}`) & (1n << 24n)) !== 0n;
}

/** Reads a /proc file, or null where it does not exist (no conntrack module, not Linux). */
export function readProc(path: string): string | null {
  try {
    return readFileSync(path, "utf8");
  } catch {
    return null;
  }
}

export interface RaiseOutcome {
  before: NofileLimit;
  after: NofileLimit;
  /** What prlimit said when it refused, else null. */
  refused: string | null;
}

/**
 * Raises this process's open-files limit to at least `need` (soft, and hard when the hard one is
 * lower), with util-linux `prlimit --pid <own pid>`. Why this way: Node has no setrlimit, and a
 * limit raised here is inherited by every child spawned afterwards (the server, the receivers),
 * so none of their command lines changes and the server's pid stays the server's. Raising the soft
 * limit up to the hard one is always allowed; raising the hard one needs CAP_SYS_RESOURCE (root,
 * unless a container dropped it) and stops at fs.nr_open. Never lowers anything.
 */
export function raiseNofile(need: number): RaiseOutcome {
  const before = nofileOf("self");
  if (before.soft >= need) return { before, after: before, refused: null };
  const hard = Math.max(before.hard, need);
  let refused: string | null = null;
  try {
    execFileSync("prlimit", ["--pid", String(process.pid), `--nofile=${need}:${hard === Infinity ? "unlimited" : hard}`], { stdio: ["ignore", "ignore", "pipe"] });
  } catch (e) {
    const stderr = (e as { stderr?: Buffer }).stderr?.toString().trim();
    refused = stderr || (e as Error).message;
  }
  return { before, after: nofileOf("self"), refused };
}

/** CPU seconds in user and system mode in a /proc/<pid>/stat line (fields 14 and 15, in USER_HZ = 100 ticks), every thread's. */
export function parseCpuTimes(stat: string): { user: number; system: number } {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

export const parseCpuSeconds = (stat: string): number => ((t) => t.user + t.system)(parseCpuTimes(stat));

/** CPU seconds a process has used so far, user and system; NaN when it is gone. */
export const cpuTimesOf = (pid: number | undefined): { user: number; system: number } => {
  const stat = pid === undefined ? null : readProc(`/proc/${pid}/stat`);
  return stat ? parseCpuTimes(stat) : { user: NaN, system: NaN };
};

export const cpuSecondsOf = (pid: number | undefined): number => ((t) => t.user + t.system)(cpuTimesOf(pid));

/**
 * Seconds a thread has waited on a run queue (ready, but another task had the cpu): the second
 * field of /proc/<pid>/schedstat, in ns, for the main thread (where a Node event loop runs). On a
 * shared machine it tells a server starved of cpu from one that is slow by itself.
 */
export function parseRunQueueSeconds(schedstat: string): number {
  return Number(schedstat.trim().split(/\s+/)[1]) / 1e9;
}

export const runQueueSecondsOf = (pid: number | undefined): number => {
  const text = pid === undefined ? null : readProc(`/proc/${pid}/schedstat`);
  return text ? parseRunQueueSeconds(text) : NaN;
};

/**
 * With two cpus or more and `taskset` (util-linux): this process, and so every child it starts
 * later, goes to the last cpu; the server is to be started on cpu 0. load.ts --compare does the
 * same, for the same reason: with both everywhere, the generator's work shows as the server's
 * latency. Null when it cannot pin.
 */
export function pinGeneratorToLastCpu(cpuCount: number): { server: string; generator: string } | null {
  if (cpuCount < 2) return null;
  const generator = String(cpuCount - 1);
  try {
    execFileSync("taskset", ["-a", "-p", "-c", generator, String(process.pid)], { stdio: "ignore" });
    return { server: "0", generator };
  } catch {
    return null;
  }
}
