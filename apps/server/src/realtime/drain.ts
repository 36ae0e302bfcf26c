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
  /**
   * Called by the command table for every packet: null while draining (drop it unanswered), else
   * the ack to answer with — the client's own, wrapped so that answering it counts the command
   * done. Fire-and-forget packets (no ack) have nothing to finish: undefined in, undefined out.
   */
  admit<A extends (...args: never[]) => unknown>(ack: A | undefined): A | undefined | null;
  /** Stops taking commands; resolves when every command in flight is answered, or after `timeoutMs`. Returns how many were left. */
  start(timeoutMs: number): Promise<number>;
}

/**
 * One per server, handed to the command table (realtime/handle.ts), which sees every packet: no
 * per-socket middleware. (A Socket.IO `socket.use` middleware would run after the table's
 * any-listener, too late to hold a packet back.)
 */
export function createDrain(): Drain {
  let inFlight = 0;
  let draining = false;
  let settled: (() => void) | null = null;

  return {
    inFlight: () => inFlight,
    draining: () => draining,
    admit(ack) {
      if (draining) return null;
      if (!ack) return undefined;
      inFlight += 1;
      let done = false;
      return ((...args: Parameters<typeof ack>) => {
        if (!done) {
          done = true;
          inFlight -= 1;
          if (inFlight === 0) settled?.();
        }
        return ack(...args);
      }) as typeof ack;
    },
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
