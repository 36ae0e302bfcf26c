import type { ParleyServer } from "./types.js";

/**
 * Graceful shutdown's view of the sockets: how many commands are between their packet and their
 * ack, and, once draining, no new ones. A command refused while draining gets no ack at all, on
 * purpose: the client keeps it in its outbox and sends it again after reconnecting to another
 * node (sends are idempotent), where a refusal with an error code would make it give up.
 */
export interface Drain {
  /** Commands received and not yet answered. */
  inFlight(): number;
  draining(): boolean;
  /** Stops taking commands; resolves when every command in flight is answered, or after `timeoutMs`. Returns how many were left. */
  start(timeoutMs: number): Promise<number>;
}

export function trackCommands(io: ParleyServer): Drain {
  let inFlight = 0;
  let draining = false;
  let settled: (() => void) | null = null;

  io.on("connection", (socket) => {
    socket.use((packet, next) => {
      if (draining) return; // Dropped unanswered: see above.
      const last = packet.length - 1;
      const ack = packet[last];
      // Only commands with an ack are awaited; fire-and-forget events (typing) have nothing to finish.
      if (typeof ack === "function") {
        inFlight += 1;
        let done = false;
        packet[last] = (...args: unknown[]) => {
          if (!done) {
            done = true;
            inFlight -= 1;
            if (inFlight === 0) settled?.();
          }
          return (ack as (...a: unknown[]) => unknown)(...args);
        };
      }
      next();
    });
  });

  return {
    inFlight: () => inFlight,
    draining: () => draining,
    async start(timeoutMs) {
      draining = true;
      if (inFlight > 0) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, timeoutMs);
          settled = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
      return inFlight;
    },
  };
}
