import { describe, expect, it } from "vitest";
import * as ws from "ws";
import { DeliveryTally } from "../src/lib/load-tally.js";
import { encodeBody, FrameReader, parseBody, parseCreatedFrame } from "../src/lib/load-wire.js";

describe("DeliveryTally", () => {
  it("counts nothing lost or duplicated when every receiver gets every message once", () => {
    const tally = new DeliveryTally();
    const a = tally.addReceiver();
    const b = tally.addReceiver();
    for (let n = 0; n < 100; n++) {
      expect(tally.record(a, 1, n)).toBe(true);
      expect(tally.record(b, 1, 99 - n)).toBe(true);
    }
    expect(tally.count(1)).toBe(200);
    expect(tally.duplicates(1)).toBe(0);
    expect(tally.check(1, 100)).toEqual({ lost: 0, unexpected: 0 });
  });

  // The bug this replaces: deliveries were counted per step, so one message delivered twice made
  // up for another never delivered, and the step looked complete.
  it("tells a duplicate from a loss even when the total matches", () => {
    const tally = new DeliveryTally();
    const a = tally.addReceiver();
    for (const n of [0, 1, 1, 3]) tally.record(a, 2, n);
    expect(tally.count(2)).toBe(3);
    expect(tally.duplicates(2)).toBe(1);
    expect(tally.check(2, 4)).toEqual({ lost: 1, unexpected: 0 });
  });

  it("counts a receiver that got nothing as losing every message", () => {
    const tally = new DeliveryTally();
    const a = tally.addReceiver();
    tally.addReceiver();
    for (let n = 0; n < 10; n++) tally.record(a, 1, n);
    expect(tally.check(1, 10)).toEqual({ lost: 10, unexpected: 0 });
  });

  it("leaves a dropped receiver (one that never connected) out of the loss count", () => {
    const tally = new DeliveryTally();
    const a = tally.addReceiver();
    const never = tally.addReceiver();
    for (let n = 0; n < 10; n++) tally.record(a, 1, n);
    tally.drop(never);
    expect(tally.check(1, 10)).toEqual({ lost: 0, unexpected: 0 });
    expect(() => tally.record(never, 1, 0)).toThrow(/dropped/);
    expect(() => tally.drop(5)).toThrow(/unknown/);
  });

  it("keeps steps apart and reports numbers never issued", () => {
    const tally = new DeliveryTally();
    const a = tally.addReceiver();
    tally.record(a, 1, 0);
    tally.record(a, 2, 0);
    tally.record(a, 2, 0);
    tally.record(a, 1, 7);
    expect(tally.duplicates(1)).toBe(0);
    expect(tally.duplicates(2)).toBe(1);
    expect(tally.check(1, 1)).toEqual({ lost: 0, unexpected: 1 });
    expect(tally.check(3, 2)).toEqual({ lost: 2, unexpected: 0 });
  });

  it("grows past its first bitset and counts across byte edges", () => {
    const tally = new DeliveryTally();
    const a = tally.addReceiver();
    // Every n but multiples of 7, up to well past the first allocation (64 bytes = 512 bits).
    const issued = 5_003;
    for (let n = 0; n < issued; n++) if (n % 7 !== 0) tally.record(a, 1, n);
    expect(tally.check(1, issued)).toEqual({ lost: Math.ceil(issued / 7), unexpected: 0 });
    expect(tally.check(1, 13)).toEqual({ lost: 2, unexpected: issued - 13 - (Math.ceil(issued / 7) - 2) });
  });
});

describe("load bench bodies", () => {
  it("round-trips step, send time and number through a body, padded or not", () => {
    for (const length of [10, 100]) {
      const body = encodeBody(3, 1_700_000_000_123_456, 42, length);
      expect(body.length).toBeGreaterThanOrEqual(length);
      expect(parseBody(body)).toEqual({ step: 3, sentMicros: 1_700_000_000_123_456, n: 42 });
    }
    expect(parseBody("hello")).toBeNull();
    expect(parseBody("L1:2:")).toBeNull();
  });

  it("reads the head out of a raw message:created frame, and nothing out of others", () => {
    const body = encodeBody(5, 1_700_000_000_000_001, 1234, 60);
    const frame = Buffer.from(`42["message:created",{"id":"m1","roomId":"general","seq":9,"body":"${body}","kind":"text"}]`);
    // Framed inside a larger buffer, as the receiver sees it.
    const buf = Buffer.concat([Buffer.from("xx"), frame, Buffer.from("yy")]);
    expect(parseCreatedFrame(buf, 2, 2 + frame.length)).toEqual({ step: 5, sentMicros: 1_700_000_000_000_001, n: 1234 });

    const other = Buffer.from('42["presence:updated",{"body":"L1:2:3:"}]');
    expect(parseCreatedFrame(other, 0, other.length)).toBeNull();
    const notOurs = Buffer.from('42["message:created",{"body":"Lunch?"}]');
    expect(parseCreatedFrame(notOurs, 0, notOurs.length)).toBeNull();
    // Cut before the third field ends: not read past the frame.
    const cut = Buffer.from(`42["message:created",{"body":"L1:2:3`);
    expect(parseCreatedFrame(Buffer.concat([cut, Buffer.from(':"}]')]), 0, cut.length)).toBeNull();
  });

  it("finds the body past other capital Ls, and not in a later frame", () => {
    const body = encodeBody(2, 1_700_000_000_000_002, 7, 30);
    const frame = Buffer.from(`42["message:created",{"authorNickname":"Lee L","text":"L9:9:9:","body":"${body}"}]`);
    expect(parseCreatedFrame(frame, 0, frame.length)).toEqual({ step: 2, sentMicros: 1_700_000_000_000_002, n: 7 });
    // A message:created without a bench body, followed in the same read by one with it.
    const plain = Buffer.from('42["message:created",{"authorNickname":"Lee","body":"Lunch"}]');
    const both = Buffer.concat([plain, frame]);
    expect(parseCreatedFrame(both, 0, plain.length)).toBeNull();
  });
});

/**
 * `ws`'s own framing (`Sender.frame`, as the raw baseline server uses it; exported by ws 8 but not
 * declared by @types/ws), so the reader is checked against frames it did not build itself.
 */
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };
/** A server-to-client (unmasked) text frame with the given payload, with the header its length needs. */
const textFrame = (payload: Buffer) => Buffer.concat(Sender.frame(payload, { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false }));

describe("FrameReader", () => {
  // Frames of every header size (7-bit, 16-bit and 64-bit lengths), a ping among them.
  const payloads = [Buffer.from("2"), Buffer.alloc(125, 0x61), Buffer.alloc(126, 0x62), Buffer.alloc(300, 0x63), Buffer.alloc(70_000, 0x64), Buffer.from("")];
  const stream = Buffer.concat([...payloads.map(textFrame), Buffer.from([0x89, 1, 0x70])]);
  const read = (chunks: Buffer[]) => {
    const got: string[] = [];
    const reader = new FrameReader((opcode, buf, start, end) => got.push(`${opcode}:${buf.toString("latin1", start, end)}`));
    for (const chunk of chunks) reader.push(chunk);
    return got;
  };
  const expected = [...payloads.map((p) => `1:${p.toString("latin1")}`), "9:p"];

  it("hands over every frame of one read, in order", () => {
    expect(read([stream])).toEqual(expected);
  });

  it("gets the same frames whatever the reads' boundaries: one byte at a time, inside headers, at random", () => {
    expect(read([...stream].map((b) => Buffer.from([b])))).toEqual(expected);
    // A cut in every position of the first frames' headers and payloads.
    for (let cutAt = 1; cutAt < 400; cutAt++) expect(read([stream.subarray(0, cutAt), stream.subarray(cutAt)])).toEqual(expected);
    let seed = 7;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let run = 0; run < 50; run++) {
      const chunks: Buffer[] = [];
      for (let off = 0; off < stream.length; ) {
        const size = 1 + Math.floor(random() * 2_000);
        chunks.push(stream.subarray(off, off + size));
        off += size;
      }
      expect(read(chunks)).toEqual(expected);
    }
  });

  it("holds a frame whose end has not come", () => {
    const frame = textFrame(Buffer.alloc(500, 0x65));
    expect(read([frame.subarray(0, 3), frame.subarray(3, 499)])).toEqual([]);
  });
});
