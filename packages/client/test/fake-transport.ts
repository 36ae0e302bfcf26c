import { ok, type AckResult, type ClientEventName, type Message } from "@parley/shared";
import { createStore } from "zustand/vanilla";
import { createCoreContext, type CoreContext } from "../src/context.js";
import { mergeMessages } from "../src/reconcile.js";
import { createInitialState, type ChatState } from "../src/state.js";
import type { ParleyClientSocket, Transport } from "../src/transport.js";
import { ME, room } from "./fixtures.js";

/**
 * A deterministic in-memory stand-in for the socket (tldraw's habit): every command the core emits
 * is recorded and answered by `reply`, which may return a promise to hold the ack back. Throwing
 * (or rejecting) is a lost ack, as `socket.timeout().emitWithAck` rejects on a timeout.
 */
export type Reply = (event: ClientEventName, payload: Record<string, unknown>) => AckResult<unknown> | Promise<AckResult<unknown>>;

export interface FakeTransport {
  transport: Transport;
  /** Every command emitted, in order. */
  sent: { event: ClientEventName; payload: Record<string, unknown> }[];
  /** Commands emitted whose ack has not arrived yet. */
  inFlight(): number;
  setConnected(connected: boolean): void;
}

export function fakeTransport(reply: Reply): FakeTransport {
  const sent: FakeTransport["sent"] = [];
  let pending = 0;
  const state = { connected: true };
  const emit = (event: ClientEventName, payload: Record<string, unknown>): Promise<AckResult<unknown>> => {
    sent.push({ event, payload });
    pending++;
    return Promise.resolve()
      .then(() => reply(event, payload))
      .finally(() => pending--);
  };
  const socket = {
    get connected() {
      return state.connected;
    },
    timeout: () => ({ emitWithAck: emit }),
  };
  const transport = {
    socket: socket as unknown as ParleyClientSocket,
    request: emit,
    requestUntilAnswered: emit,
    connectionLost: () => new Promise<"disconnected">(() => {}),
    open() {},
    close() {},
  } as unknown as Transport;
  return { transport, sent, inFlight: () => pending, setConnected: (c) => (state.connected = c) };
}

/** A core context over a fresh store in which I am signed in and room r1 holds `messages` (page version `version`). */
export function contextWith(messages: Message[], version: number, summary: Parameters<typeof room>[0] = {}): CoreContext {
  let s: ChatState = { ...createInitialState(), me: ME, rooms: { r1: room({ lastSeq: messages.length, lastVersion: version, ...summary }) } };
  s = mergeMessages(s, "r1", messages, "latest", undefined, null, version);
  let n = 0;
  return createCoreContext(
    createStore<ChatState>(() => s),
    { now: () => 1_000 + n, randomId: () => `id${++n}`, ackTimeoutMs: 1_000, maxAttempts: 3, windowSize: 1_000, pageSize: 50 },
  );
}

/** A promise with its resolver, to hold an ack back until the test lets it go. */
export function deferred<T>(): { promise: Promise<T>; resolve(value: T): void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

export const okMessage = (m: Message): AckResult<Message> => ok(m);
