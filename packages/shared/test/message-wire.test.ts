import { describe, expect, it } from "vitest";
import { fromWireMessage, toWireMessage, WIRE_DEFAULTED_FIELDS, type Message } from "../src/index.js";

const fresh: Message = {
  id: "m1",
  roomId: "r1",
  seq: 7,
  kind: "text",
  authorId: "u1",
  authorNickname: "Alice",
  clientId: "c1",
  body: "hello",
  createdAt: 1_000,
  mentions: [],
  version: 7,
  editedAt: null,
  deletedAt: null,
  removedByModerator: false,
  reactions: [],
  replyTo: null,
  attachments: [],
};

const changed: Message = {
  ...fresh,
  body: "hello @Bob",
  mentions: ["u2"],
  version: 9,
  editedAt: 2_000,
  reactions: [{ emoji: "👍", users: [{ id: "u2", nickname: "Bob" }] }],
  replyTo: { id: "m0", seq: 6, authorId: "u2", authorNickname: "Bob", excerpt: "hi", deleted: false },
  attachments: [{ id: "f1", name: "a.png", size: 10, contentType: "image/png", kind: "image", width: 2, height: 3 }],
};

describe("the broadcast form of a message", () => {
  it("leaves out exactly the fields a new message has at their defaults", () => {
    const wire = toWireMessage(fresh);
    expect(Object.keys(wire)).toEqual(["id", "roomId", "seq", "kind", "authorId", "authorNickname", "clientId", "body", "createdAt", "version"]);
    expect(JSON.stringify(wire).length).toBeLessThan(JSON.stringify(fresh).length - 100);
    expect(fromWireMessage(wire)).toEqual(fresh);
  });

  it("keeps every field that differs from its default, and reads back the same message", () => {
    const wire = toWireMessage(changed);
    for (const field of ["mentions", "editedAt", "reactions", "replyTo", "attachments"]) expect(wire).toHaveProperty(field);
    expect(wire).not.toHaveProperty("deletedAt");
    expect(fromWireMessage(wire)).toEqual(changed);

    const removed: Message = { ...fresh, body: "", deletedAt: 3_000, removedByModerator: true, version: 10 };
    expect(toWireMessage(removed)).toMatchObject({ deletedAt: 3_000, removedByModerator: true });
    expect(fromWireMessage(toWireMessage(removed))).toEqual(removed);
  });

  it("survives JSON (what Socket.IO sends), and a full message reads as itself", () => {
    for (const message of [fresh, changed]) {
      expect(fromWireMessage(JSON.parse(JSON.stringify(toWireMessage(message))))).toEqual(message);
      expect(fromWireMessage(message)).toEqual(message);
    }
  });

  it("gives every filled-in list its own array, so no two messages share one", () => {
    const a = fromWireMessage(toWireMessage(fresh));
    const b = fromWireMessage(toWireMessage(fresh));
    expect(a.reactions).not.toBe(b.reactions);
    expect(a.mentions).not.toBe(b.mentions);
    expect(a.attachments).not.toBe(b.attachments);
  });

  it("names the fields it may leave out", () => {
    expect([...WIRE_DEFAULTED_FIELDS].sort()).toEqual(["attachments", "deletedAt", "editedAt", "mentions", "reactions", "removedByModerator", "replyTo"]);
  });
});
