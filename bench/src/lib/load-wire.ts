import { connect as netConnect, type Socket } from "node:net";
import { randomBytes } from "node:crypto";
import { SOCKET_PATH } from "@parley/shared";

/**
 * The load bench's message format and its two receivers.
 *
 * A sender writes `L<step>:<sentMicros>:<n>:` and padding as the body; `sentMicros` is the
 * *intended* send time (µs since the epoch, `performance.timeOrigin + performance.now()`), not the
 * moment the emit happened, so a sender that falls behind shows up as latency instead of hiding it
 * (coordinated omission). Every process of the bench runs on this machine, so the clocks agree.
 * `n` numbers the step's messages from 0, so a receiver can tell which one it got (DeliveryTally).
 */
export function encodeBody(step: number, sentMicros: number, n: number, length: number): string {
  const head = `L${step}:${Math.round(sentMicros)}:${n}:`;
  return head.length >= length ? head : head + "x".repeat(length - head.length);
}

export const nowMicros = () => (performance.timeOrigin + performance.now()) * 1000;

/** What a bench body says about its message. */
export interface BodyHead {
  step: number;
  sentMicros: number;
  n: number;
}

/**
 * Called for every `message:created` a receiver gets whose body the bench wrote; `receivedMicros`
 * is when the read that carried it returned (nowMicros), taken once per read, not per message.
 */
export type OnDelivery = (step: number, sentMicros: number, n: number, receivedMicros: number) => void;

/** Parses `L<step>:<micros>:<n>:` from a body string (the socket.io-client receiver). */
export function parseBody(body: string): BodyHead | null {
  if (body.charCodeAt(0) !== 76 /* L */) return null;
  const a = body.indexOf(":");
  const b = body.indexOf(":", a + 1);
  const c = body.indexOf(":", b + 1);
  if (a < 0 || b < 0 || c < 0) return null;
  const head = { step: Number(body.slice(1, a)), sentMicros: Number(body.slice(a + 1, b)), n: Number(body.slice(b + 1, c)) };
  return Number.isInteger(head.step) && Number.isFinite(head.sentMicros) && Number.isInteger(head.n) ? head : null;
}

const EVENT_PREFIX = Buffer.from('42["message:created",');
const BODY_KEY = Buffer.from('"body":"');
const L = 0x4c;

/** Whether `buf[at..]` starts with `bytes` (a byte loop: Buffer#compare's argument checks cost more than these few bytes). */
function startsWithAt(buf: Buffer, at: number, end: number, bytes: Buffer): boolean {
  if (at < 0 || end - at < bytes.length) return false;
  for (let i = 0; i < bytes.length; i++) if (buf[at + i] !== bytes[i]) return false;
  return true;
}

/**
 * Reads the head of a bench body out of one Engine.IO message's bytes (`buf[start..end)`), without
 * decoding the JSON: null unless it is a `message:created` event whose body the bench wrote.
 *
 * The body is found by its first byte: `L` is looked for with a single-byte search (memchr) and
 * checked to follow `"body":"`. Why not `indexOf('"body":"L')`: its first byte, `"`, is every few
 * bytes of JSON, so that search restarted at each one; it was the receivers' largest cost (16 % of
 * their time at 300,000 deliveries/s of Parley's ~480-byte frames), and a receiver that cannot keep
 * up shows as server latency. Ids are lowercase and keys camelCase, so `L` is rare before the body.
 */
export function parseCreatedFrame(buf: Buffer, start: number, end: number): BodyHead | null {
  if (!startsWithAt(buf, start, end, EVENT_PREFIX)) return null;
  let at = start + EVENT_PREFIX.length;
  for (;;) {
    at = buf.indexOf(L, at);
    if (at < 0 || at >= end) return null;
    if (startsWithAt(buf, at - BODY_KEY.length, at, BODY_KEY)) break;
    at++;
  }
  let i = at + 1;
  // Three decimal fields, each ended by ':'; anything else (or the frame's end) is not ours.
  let step = 0;
  let sentMicros = 0;
  let n = 0;
  for (let f = 0; f < 3; f++) {
    let value = 0;
    let digits = 0;
    for (; i < end; i++, digits++) {
      const c = buf[i]!;
      if (c === 0x3a /* : */) break;
      if (c < 0x30 || c > 0x39) return null;
      value = value * 10 + (c - 48);
    }
    if (i >= end || digits === 0) return null;
    i++;
    if (f === 0) step = value;
    else if (f === 1) sentMicros = value;
    else n = value;
  }
  return { step, sentMicros, n };
}

/** The longest header of a server-to-client (unmasked) WebSocket frame: 2 bytes and a 64-bit length. */
const MAX_HEADER = 10;

/** A frame header's length from its second byte's 7-bit length code: 2, or 4 / 10 with a 16- / 64-bit length. */
const headerLength = (code: number) => (code < 126 ? 2 : code === 126 ? 4 : 10);

/**
 * A frame's whole size (header and payload) from its first bytes at `buf[off..]`, or -1 when they
 * do not yet hold the whole header.
 */
function frameSize(buf: Buffer, off: number): number {
  const left = buf.length - off;
  if (left < 2) return -1;
  const code = buf[off + 1]! & 0x7f;
  const header = headerLength(code);
  if (left < header) return -1;
  if (code < 126) return header + code;
  return header + (code === 126 ? buf.readUInt16BE(off + 2) : Number(buf.readBigUInt64BE(off + 2)));
}

/**
 * Splits the bytes of a server-to-client WebSocket stream into frames, in order, whatever the reads'
 * boundaries: `onFrame(opcode, buf, start, end)` gets each frame's payload as `buf[start..end)`,
 * valid during the call only.
 *
 * A frame cut across two reads is completed with just the bytes it lacks. Why: a loaded receiver's
 * reads are 64 KiB and nearly every one ends mid-frame; copying each read whole onto the tail of the
 * last (`Buffer.concat([pending, chunk])`) cost the receivers 13 % of their time in copies and as
 * much again in the garbage collector, at 300,000 deliveries/s.
 */
export class FrameReader {
  /** The start of a frame whose end has not arrived (never a whole frame). */
  private pending: Buffer | null = null;

  constructor(private readonly onFrame: (opcode: number, buf: Buffer, start: number, end: number) => void) {}

  push(chunk: Buffer): void {
    let off = 0;
    while (this.pending !== null && off < chunk.length) {
      const head = this.pending;
      const size = frameSize(head, 0);
      // What the cut frame lacks; when even its header is cut, enough for any header (which may
      // reach into the next frames: `drain` leaves the incomplete rest pending again).
      const take = Math.min(size < 0 ? MAX_HEADER - head.length : size - head.length, chunk.length - off);
      const joined = Buffer.concat([head, chunk.subarray(off, off + take)]);
      off += take;
      const used = this.drain(joined, 0);
      this.pending = used < joined.length ? joined.subarray(used) : null;
    }
    if (off === chunk.length) return;
    const used = this.drain(chunk, off);
    this.pending = used < chunk.length ? chunk.subarray(used) : null;
  }

  /** Hands every whole frame of `buf` from `off` on to onFrame; returns where the first incomplete one starts. */
  private drain(buf: Buffer, off: number): number {
    for (;;) {
      const size = frameSize(buf, off);
      if (size < 0 || buf.length - off < size) return off;
      const header = headerLength(buf[off + 1]! & 0x7f);
      // The server never fragments (ws sends each message as one frame), so FIN is not tracked.
      this.onFrame(buf[off]! & 0x0f, buf, off + header, off + size);
      off += size;
    }
  }
}

export interface RawReceiver {
  close(): void;
}

/** A raw client that also sends commands (the bench's senders): acks are matched by id, not decoded. */
export interface RawSender extends RawReceiver {
  /**
   * Emits `event` with `payload` and an ack id; `onAck(ok)` runs once: with whether the ack envelope
   * said `{"ok":true`, or false when the connection closes or `timeoutMs` passes first.
   */
  emit(event: string, payload: unknown, onAck: (ok: boolean) => void, timeoutMs: number): void;
}

/** How often a raw sender looks for acks past their timeout. */
const ACK_SWEEP_MS = 1_000;
const ACK_OK = Buffer.from('[{"ok":true');

export interface RawReceiverOptions {
  /** From the start of the TCP connect to the Socket.IO CONNECT ack. */
  timeoutMs?: number;
  /**
   * The source address to connect from (e.g. "127.0.0.2"). Why: the kernel has one ephemeral port
   * range (about 28,000 ports by default) per (source address, destination address and port), so
   * more sockets than that to one server need several source addresses; all of 127.0.0.0/8 is
   * loopback on Linux, no configuration needed. Default: the kernel's choice (127.0.0.1).
   */
  localAddress?: string;
}

const CRLFCRLF = Buffer.from("\r\n\r\n");

/**
 * A receive-only Socket.IO client over a plain TCP socket: the HTTP upgrade, WebSocket framing
 * (RFC 6455), the Engine.IO v4 open/ping packets and the Socket.IO v5 CONNECT, and nothing else.
 *
 * Why not socket.io-client: on a 2-core box the server gets one core and every receiver together
 * the other. socket.io-client spends several µs per packet (engine.io-client + socket.io-parser +
 * JSON.parse + emitter), which caps the receivers near the server's *uncorked* rate, so the bench
 * would measure itself. This one scans frame headers and reads the body's timestamp out of the
 * bytes, without decoding the JSON. `--client socketio` runs the real client instead.
 */
export function connectRawReceiver(port: number, cookie: string, onDelivery: OnDelivery, options: RawReceiverOptions = {}): Promise<RawReceiver> {
  return connectRawClient(port, cookie, onDelivery, options);
}

/**
 * The raw receiver plus `emit` with an ack (RawSender): what the bench's senders use with
 * `--client raw`. Why: every sender is also a member of the room and gets every broadcast; through
 * socket.io-client (engine.io-client, socket.io-parser, JSON.parse per message) 20 senders took
 * 0.3-0.5 of the generator's core at 1,500 messages/s, which capped the raw server's measured max
 * at what the generator could drive (issue 15), not at what the server could do.
 */
export function connectRawClient(port: number, cookie: string, onDelivery: OnDelivery, { timeoutMs = 20_000, localAddress }: RawReceiverOptions = {}): Promise<RawSender> {
  return new Promise((resolve, reject) => {
    const socket: Socket = netConnect({ port, host: "127.0.0.1", ...(localAddress !== undefined && { localAddress }) });
    socket.setNoDelay(true);
    let upgraded = false;
    let connected = false;
    /** When the read being handled returned (nowMicros). */
    let receivedMicros = 0;
    const timer = setTimeout(() => fail(new Error("raw receiver: connect timed out")), timeoutMs);
    const fail = (error: Error) => {
      clearTimeout(timer);
      socket.destroy();
      if (!connected) reject(error);
    };

    socket.on("connect", () => {
      socket.write(
        `GET ${SOCKET_PATH}/?EIO=4&transport=websocket HTTP/1.1\r\n` +
          `Host: 127.0.0.1:${port}\r\n` +
          "Upgrade: websocket\r\nConnection: Upgrade\r\n" +
          `Sec-WebSocket-Key: ${randomBytes(16).toString("base64")}\r\n` +
          "Sec-WebSocket-Version: 13\r\n" +
          `Cookie: ${cookie}\r\n\r\n`,
      );
    });
    socket.on("error", (e) => fail(e));
    socket.on("close", () => {
      clearTimeout(timer);
      if (!connected) reject(new Error("raw receiver: closed before CONNECT"));
    });

    // Client frames must be masked; an all-zero mask is valid and leaves the payload as is.
    const sendText = (text: string) => {
      const payload = Buffer.from(text);
      if (payload.length > 0xffff) throw new Error("raw client: frames over 64 KiB are not sent");
      const header =
        payload.length <= 125
          ? Buffer.from([0x81, 0x80 | payload.length, 0, 0, 0, 0])
          : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 0xff, 0, 0, 0, 0]);
      socket.write(Buffer.concat([header, payload]));
    };

    /** Acks awaited: id -> callback and deadline. */
    const acks = new Map<number, { onAck: (ok: boolean) => void; deadline: number }>();
    let nextAckId = 0;
    const settleAll = () => {
      for (const { onAck } of acks.values()) onAck(false);
      acks.clear();
    };
    const sweep = setInterval(() => {
      const now = Date.now();
      for (const [id, a] of acks) {
        if (a.deadline <= now) {
          acks.delete(id);
          a.onAck(false);
        }
      }
    }, ACK_SWEEP_MS);
    sweep.unref();
    socket.on("close", () => {
      clearInterval(sweep);
      settleAll();
    });
    const client: RawSender = {
      close: () => socket.destroy(),
      emit(event, payload, onAck, ackTimeoutMs) {
        const id = nextAckId++;
        acks.set(id, { onAck, deadline: Date.now() + ackTimeoutMs });
        sendText(`42${id}${JSON.stringify([event, payload])}`);
      },
    };

    const onText = (buf: Buffer, start: number, end: number) => {
      const engineType = buf[start];
      if (engineType === 0x34 /* 4: message */) {
        const ioType = buf[start + 1];
        if (ioType === 0x32 /* 2: EVENT */) {
          const head = parseCreatedFrame(buf, start, end);
          if (head) onDelivery(head.step, head.sentMicros, head.n, receivedMicros);
        } else if (ioType === 0x33 /* 3: ACK */) {
          // 43<id>[{"ok":true,…}]: the id's digits, then the envelope, read without decoding it.
          let i = start + 2;
          let id = 0;
          for (; i < end && buf[i]! >= 0x30 && buf[i]! <= 0x39; i++) id = id * 10 + (buf[i]! - 48);
          const waiting = acks.get(id);
          if (waiting) {
            acks.delete(id);
            waiting.onAck(buf.compare(ACK_OK, 0, ACK_OK.length, i, Math.min(end, i + ACK_OK.length)) === 0);
          }
        } else if (ioType === 0x30 /* 0: CONNECT ack */) {
          connected = true;
          clearTimeout(timer);
          resolve(client);
        } else if (ioType === 0x34 /* 4: CONNECT_ERROR */) {
          fail(new Error(`raw receiver: ${buf.toString("utf8", start + 2, end)}`));
        }
      } else if (engineType === 0x32 /* 2: ping */) {
        sendText("3");
      } else if (engineType === 0x30 /* 0: open */) {
        sendText("40");
      }
    };

    const frames = new FrameReader((opcode, buf, start, end) => {
      if (opcode === 0x1) onText(buf, start, end);
      else if (opcode === 0x8) socket.end();
      else if (opcode === 0x9) socket.write(Buffer.concat([Buffer.from([0x8a, 0x80 | (end - start), 0, 0, 0, 0]), buf.subarray(start, end)]));
    });
    /** The HTTP response to the upgrade, until its blank line. */
    let response: Buffer | null = null;
    socket.on("data", (chunk: Buffer) => {
      receivedMicros = nowMicros();
      if (upgraded) return frames.push(chunk);
      const buf: Buffer = response ? Buffer.concat([response, chunk]) : chunk;
      const head = buf.indexOf(CRLFCRLF);
      if (head < 0) {
        response = buf;
        return;
      }
      response = null;
      const status = buf.toString("latin1", 0, buf.indexOf("\r\n"));
      if (!status.includes(" 101 ")) return fail(new Error(`raw receiver: upgrade refused: ${status}`));
      upgraded = true;
      if (head + 4 < buf.length) frames.push(buf.subarray(head + 4));
    });
  });
}
