import { randomUUID } from "node:crypto";
import fc from "fast-check";
import { ClientPayloadSchemas, DEFAULT_ROOM_ID, ERROR_CODES, LIMITS, type ClientEventName } from "@parley/shared";

/**
 * Runs per property. The defaults keep the fuzz files within about a minute of `pnpm test` on a
 * busy 2-core machine (a run is one round trip, 1-5 ms); `pnpm test:fuzz` sets FUZZ_RUNS to many
 * more, and FUZZ_SEED replays a failure fast-check reported.
 */
export function fuzzRuns(defaultRuns: number): number {
  const fromEnv = Number(process.env["FUZZ_RUNS"]);
  return Number.isInteger(fromEnv) && fromEnv > 0 ? fromEnv : defaultRuns;
}

/** fast-check parameters shared by every fuzz property. */
export function fuzzParams(defaultRuns: number): fc.Parameters<unknown> {
  const seed = Number(process.env["FUZZ_SEED"]);
  return { numRuns: fuzzRuns(defaultRuns), ...(Number.isInteger(seed) && { seed }), endOnFailure: true };
}

/** A timeout that grows with the number of runs (ms per run, generous for a busy machine). */
export function fuzzTimeout(defaultRuns: number, msPerRun = 40): number {
  return 30_000 + fuzzRuns(defaultRuns) * msPerRun;
}

export const EVENTS = Object.keys(ClientPayloadSchemas) as ClientEventName[];

/** Keys that make objects lie about themselves, and the keys the real payloads use. */
const KEYS = [
  "length", "toString", "valueOf", "__proto__", "constructor", "prototype", "toJSON", "then", "hasOwnProperty",
  "_placeholder", "num", "roomId", "body", "clientId", "name", "query", "userId", "seq", "afterSeq", "beforeSeq", "limit",
];

/** Characters the input-hygiene rules are about, mixed into strings often. */
const NASTY_CHARS = ["\u0000", "\u0007", "\u001b", "\r", "\n", "\t", "\u0085", "\u00ad", "\u200b", "\u200c", "\u200d", "\u202e", "\u2066", "\ufeff", "\ud800", "\udfff", "\u{e0041}", "\u{1f3f4}", "👍", "@", "<", ">", " ", "a", "é", "名"];

export const nastyString = fc.oneof(
  fc.string({ unit: fc.constantFrom(...NASTY_CHARS), maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ maxLength: 20 }),
  fc.constantFrom("", " ", "general", "dm:a:b", "room:x", "x".repeat(LIMITS.messageMax + 1), "y".repeat(LIMITS.messageMax), " ".repeat(5000)),
);

/** `{"length":{"toString":{},"valueOf":{}}}`: the value that used to end the process (issue 10). */
export const lengthBomb = (): unknown => JSON.parse('{"length":{"toString":{},"valueOf":{}}}');

const leaf: fc.Arbitrary<unknown> = fc.oneof(
  nastyString,
  fc.integer(),
  fc.double(),
  fc.bigInt({ min: -(2n ** 70n), max: 2n ** 70n }).map((n) => Number(n)),
  fc.boolean(),
  fc.constant(null),
  fc.constant(undefined),
  fc.constant(Number.MAX_SAFE_INTEGER + 2),
  fc.constant(-1),
  fc.constant(lengthBomb()),
  fc.uuid(),
  // Binary attachments: socket.io sends these as separate frames and the server rebuilds them.
  fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)),
);

/** Any value a client can put on the wire: JSON, binary, liar objects, nested a few levels. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    fc.array(tie("value"), { maxLength: 5 }),
    fc.dictionary(fc.oneof(fc.constantFrom(...KEYS), fc.string({ maxLength: 8 })), tie("value"), { maxKeys: 5 }),
  ),
})).value;

/** A deeply nested array or object (JSON.parse and every recursive walk on the way meet it). */
export const deepValue = fc.record({ depth: fc.integer({ min: 100, max: 4_000 }), array: fc.boolean() }).map(({ depth, array }) => {
  let v: unknown = "bottom";
  for (let i = 0; i < depth; i++) v = array ? [v] : { roomId: v };
  // fast-check prints counterexamples recursively: say what this is instead of overflowing.
  return Object.defineProperty(v as object, fc.toStringMethod, { value: () => `<${depth} levels of ${array ? "[]" : "{roomId}"}>` });
});

/** The ids a payload may name: real ones (so that valid payloads happen) and nonsense. */
export function idPool(ids: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof(fc.constantFrom(...ids, "general", "dm:a:b", "", "x".repeat(129)), nastyString, hostileValue);
}

/** A payload close to valid for `event`: right shape, each field maybe hostile, maybe extra keys. */
export function nearValidPayload(event: ClientEventName, ids: readonly string[]): fc.Arbitrary<unknown> {
  const id = idPool(ids);
  const seq = fc.oneof(fc.nat({ max: 100 }), hostileValue);
  const shapes: Record<ClientEventName, fc.Arbitrary<Record<string, unknown>>> = {
    "session:sync": fc.constant({}),
    // Biased towards valid sends, so that storing (and what gets stored) is exercised too.
    "message:send": fc.record({
      roomId: fc.oneof({ weight: 3, arbitrary: fc.constant(DEFAULT_ROOM_ID) }, { weight: 1, arbitrary: id }),
      clientId: fc.oneof({ weight: 3, arbitrary: fc.constant(null).map(() => randomUUID()) }, { weight: 1, arbitrary: hostileValue }),
      body: fc.oneof(fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }), nastyString, hostileValue),
    }),
    "message:edit": fc.record({
      messageId: id,
      body: fc.oneof(fc.string({ unit: "grapheme", minLength: 1, maxLength: 60 }), nastyString, hostileValue),
      baseVersion: seq,
    }),
    "message:delete": fc.record({ messageId: id }),
    "reaction:set": fc.record({
      messageId: id,
      emoji: fc.oneof(fc.constantFrom("👍", "🎉", "🇨🇳", "1️⃣", "👨‍👩‍👧"), nastyString, hostileValue),
      on: fc.oneof(fc.boolean(), hostileValue),
    }),
    "messages:fetch": fc.record(
      { roomId: id, afterSeq: seq, beforeSeq: seq, aroundSeq: seq, changedSince: seq, limit: fc.oneof(fc.integer({ min: -5, max: 300 }), hostileValue) },
      { requiredKeys: ["roomId"] },
    ),
    "typing:start": fc.record({ roomId: id }),
    "typing:stop": fc.record({ roomId: id }),
    "room:create": fc.record({ name: fc.oneof(nastyString, hostileValue) }),
    "room:join": fc.record({ roomId: id }),
    "room:leave": fc.record({ roomId: id }),
    "rooms:list": fc.record({ query: fc.oneof(nastyString, hostileValue) }, { requiredKeys: [] }),
    "room:members": fc.record({ roomId: id }),
    "dm:open": fc.record({ userId: id }),
    "users:search": fc.record({ query: fc.oneof(nastyString, hostileValue) }),
    "room:read": fc.record({ roomId: id, seq }),
    "search:messages": fc.record(
      {
        terms: fc.oneof(fc.array(fc.oneof(fc.constantFrom("hello", "go", "中文", "%_\\\"*'"), nastyString, hostileValue), { maxLength: 10 }), hostileValue),
        roomId: id,
        from: fc.oneof(nastyString, hostileValue),
        after: seq,
        before: seq,
        cursor: fc.oneof(fc.constantFrom("1", "99999999999999999999", "0", "-1", "1e3"), nastyString, hostileValue),
        limit: fc.oneof(fc.integer({ min: -5, max: 300 }), hostileValue),
      },
      { requiredKeys: ["terms"] },
    ),
    "room:update": fc.record(
      { roomId: id, name: fc.oneof(nastyString, hostileValue), topic: fc.oneof(nastyString, hostileValue), inviteOnly: fc.oneof(fc.boolean(), hostileValue) },
      { requiredKeys: ["roomId"] },
    ),
    "room:setRole": fc.record({ roomId: id, userId: id, role: fc.oneof(fc.constantFrom("moderator", "member", "owner"), hostileValue) }),
    "room:kick": fc.record({ roomId: id, userId: id }),
    "room:ban": fc.record({ roomId: id, userId: id, reason: fc.oneof(nastyString, hostileValue) }, { requiredKeys: ["roomId", "userId"] }),
    "room:unban": fc.record({ roomId: id, userId: id }),
    "room:bans": fc.record({ roomId: id }),
    "room:invite": fc.record({ roomId: id, userId: id }),
    "room:audit": fc.record({ roomId: id, limit: fc.oneof(fc.integer({ min: -5, max: 300 }), hostileValue) }, { requiredKeys: ["roomId"] }),
    "user:mute": fc.record({ userId: id, on: fc.oneof(fc.boolean(), hostileValue) }),
    "message:report": fc.record({ messageId: id, reason: fc.oneof(nastyString, hostileValue) }, { requiredKeys: ["messageId"] }),
    "reports:list": fc.record({ roomId: id, resolved: fc.oneof(fc.boolean(), hostileValue) }, { requiredKeys: [] }),
    "report:resolve": fc.record({ reportId: id }),
    "admin:setActive": fc.record({ userId: id, active: fc.oneof(fc.boolean(), hostileValue) }),
    "profile:update": fc.record(
      {
        displayName: fc.oneof(fc.string({ unit: "grapheme", maxLength: 60 }), nastyString, hostileValue),
        statusText: fc.oneof(fc.string({ unit: "grapheme", maxLength: 160 }), nastyString, hostileValue),
        availability: fc.oneof(fc.constantFrom("online", "away", "dnd", "busy"), hostileValue),
      },
      { requiredKeys: [] },
    ),
    "profiles:get": fc.record({ userIds: fc.oneof(fc.array(id, { maxLength: 120 }), hostileValue) }),
    "room:notify": fc.record({ roomId: id, level: fc.oneof(fc.constantFrom("all", "mentions", "none", "loud"), hostileValue) }),
  };
  return fc.tuple(shapes[event], fc.option(fc.tuple(fc.constantFrom(...KEYS), hostileValue), { freq: 5 })).map(([shape, extra]) => {
    if (!extra) return shape;
    // defineProperty: `__proto__` becomes an own key, as JSON.parse makes it on the server.
    return Object.defineProperty({ ...shape }, extra[0], { value: extra[1], enumerable: true, writable: true, configurable: true });
  });
}

/** Any payload: near valid most of the time (reaches deeper), anything at all otherwise. */
export function payloadFor(event: ClientEventName, ids: readonly string[]): fc.Arbitrary<unknown> {
  return fc.oneof({ weight: 3, arbitrary: nearValidPayload(event, ids) }, { weight: 1, arbitrary: hostileValue });
}

/** Whether some value inside `value` (itself included) satisfies `test`; iterative, for deep values. */
function some(value: unknown, test: (v: unknown, key: string | null) => boolean): boolean {
  const stack: [unknown, string | null][] = [[value, null]];
  while (stack.length > 0) {
    const [v, key] = stack.pop()!;
    if (test(v, key)) return true;
    if (!v || typeof v !== "object" || ArrayBuffer.isView(v)) continue;
    for (const k of Object.keys(v)) stack.push([(v as Record<string, unknown>)[k], k]);
  }
  return false;
}

/** Whether socket.io-client sends `value` as a binary packet (attachments). */
export function hasBinary(value: unknown): boolean {
  return some(value, (v) => ArrayBuffer.isView(v) || v instanceof ArrayBuffer);
}

/** Whether some object in `value` has an own `_placeholder` key (socket.io's attachment marker). */
export function hasPlaceholderKey(value: unknown): boolean {
  return some(value, (_v, key) => key === "_placeholder");
}

/**
 * The payload as the server sees it: what JSON keeps (undefined dropped, NaN and Infinity null),
 * with Buffers kept as Buffers (socket.io sends them as attachments). A binary packet is rebuilt
 * by assignment on both sides (socket.io-parser's deconstruct/reconstruct), where an own
 * `__proto__` key sets the prototype instead and so never arrives; plain JSON keeps it.
 */
export function onTheWire(value: unknown): unknown {
  const rebuilt = hasBinary(value) ? rebuildByAssignment(value) : value;
  return JSON.parse(JSON.stringify(rebuilt ?? null), (_key, v: unknown) => {
    if (v && typeof v === "object" && (v as { type?: unknown }).type === "Buffer" && Array.isArray((v as { data?: unknown }).data)) {
      return Buffer.from((v as { data: number[] }).data);
    }
    return v;
  });
}

function rebuildByAssignment(value: unknown): unknown {
  if (!value || typeof value !== "object" || ArrayBuffer.isView(value)) return value;
  if (Array.isArray(value)) return value.map(rebuildByAssignment);
  const out: Record<string, unknown> = {};
  // Assigning `__proto__` replaces the prototype, which JSON then leaves out: the key is gone.
  for (const key of Object.keys(value)) if (key !== "__proto__") out[key] = rebuildByAssignment((value as Record<string, unknown>)[key]);
  return out;
}

/** socket.io-parser's default `maxAttachments`: a packet announcing more is refused. */
const MAX_ATTACHMENTS = 10;

function binaryCount(value: unknown): number {
  let n = 0;
  some(value, (v) => {
    if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) n++;
    return false;
  });
  return n;
}

/**
 * Whether the server may close the sender's connection for this packet instead of answering:
 * socket.io-parser cannot decode it, so there is no ack id to answer. Three cases: user data with
 * a `_placeholder` key in a binary packet (the parser takes it for an attachment reference and
 * refuses the packet as "illegal attachments"), more than 10 binary values ("too many
 * attachments", found by the fuzzer), and a packet over maxHttpBufferSize (64 KiB).
 */
export function mayCloseConnection(args: readonly unknown[]): boolean {
  if (hasBinary(args) && hasPlaceholderKey(args)) return true;
  if (binaryCount(args) > MAX_ATTACHMENTS) return true;
  try {
    return JSON.stringify(args).length > 60_000;
  } catch {
    return true;
  }
}

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

/**
 * Checks one ack against the properties of the fuzz suite: an envelope; a failure carries a known
 * code other than INTERNAL (an INTERNAL is a server bug: the fuzzer found something); a success
 * only for a payload the schema accepts.
 */
export function checkAck(event: ClientEventName, payload: unknown, ack: unknown): "ok" | "refused" {
  if (!ack || typeof ack !== "object") throw new Error(`${event}: not an ack envelope: ${String(ack)}`);
  const envelope = ack as { ok?: unknown; error?: { code?: unknown; message?: unknown } };
  if (envelope.ok === true) {
    const parsed = ClientPayloadSchemas[event].safeParse(onTheWire(payload));
    if (!parsed.success) throw new Error(`${event}: acked ok for a payload the schema refuses: ${parsed.error.message}`);
    return "ok";
  }
  if (envelope.ok !== false) throw new Error(`${event}: ack without ok: ${JSON.stringify(ack)}`);
  const code = envelope.error?.code;
  if (typeof code !== "string" || !CODES.has(code)) throw new Error(`${event}: unknown error code ${String(code)}`);
  if (code === "INTERNAL") throw new Error(`${event}: INTERNAL for ${describe(payload)}`);
  if (typeof envelope.error?.message !== "string") throw new Error(`${event}: error without a message`);
  return "refused";
}

function describe(payload: unknown): string {
  try {
    return JSON.stringify(payload).slice(0, 300);
  } catch {
    return String(payload);
  }
}
