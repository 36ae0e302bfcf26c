import { fork, type ChildProcess } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { ParentMessage, ReceiverMessage } from "./load-ipc.js";

/**
 * One receiver child process (lib/load-receiver.ts) and a request/response channel over its IPC:
 * the same process and protocol load.ts drives, for bench:sockets. A request waits for the next
 * reply of the type it wants (stats replies are matched by id); an `error` message from the child
 * or its exit rejects every pending request.
 */
export interface ReceiverProcess {
  readonly child: ChildProcess;
  request(m: ParentMessage, want: ReceiverMessage["type"]): Promise<ReceiverMessage>;
  /** Asks the child to close its sockets and exit; SIGKILL after `graceMs`. */
  close(graceMs?: number): Promise<void>;
}

export function startReceiverProcess(root: string): Promise<ReceiverProcess> {
  // Forked with tsx as a loader, from the repository root (where tsx is installed).
  const child = fork(fileURLToPath(new URL("./load-receiver.ts", import.meta.url)), [], {
    cwd: root,
    execArgv: ["--import", "tsx"],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const waiting: { want: string; id?: number; resolve: (m: ReceiverMessage) => void; reject: (e: Error) => void }[] = [];
  child.on("message", (raw) => {
    const m = raw as ReceiverMessage;
    if (m.type === "error") {
      for (const w of waiting.splice(0)) w.reject(new Error(`receiver: ${m.message}`));
      return;
    }
    const i = waiting.findIndex((w) => w.want === m.type && (m.type !== "stats" || w.id === m.id));
    if (i >= 0) waiting.splice(i, 1)[0]!.resolve(m);
  });
  const exited = new Promise<void>((resolve) =>
    child.once("exit", (code, signal) => {
      for (const w of waiting.splice(0)) w.reject(new Error(`receiver exited (${code ?? signal})`));
      resolve();
    }),
  );
  const request = (m: ParentMessage | null, want: ReceiverMessage["type"]) =>
    new Promise<ReceiverMessage>((resolve, reject) => {
      if (child.exitCode !== null || child.signalCode !== null) return reject(new Error("receiver is not running"));
      waiting.push({ want, ...(m?.type === "stats" && { id: m.id }), resolve, reject });
      if (m) child.send(m);
    });
  const close = async (graceMs = 5_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: "close" } satisfies ParentMessage);
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    await exited;
    clearTimeout(timer);
  };
  return request(null, "ready").then(() => ({ child, request: (m, want) => request(m, want), close }));
}
