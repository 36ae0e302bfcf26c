import { describe, expect, it } from "vitest";
import { ClientPayloadSchemas, type ClientEventName } from "@parley/shared";
import { validationFailure, toAck } from "../../src/realtime/handle.js";
import { DomainError } from "../../src/domain/errors.js";
import type { Logger } from "../../src/logger.js";

const UUID = "6f1c1a3e-8a4b-4c1e-9f7a-2b3c4d5e6f70";

/** Parses `payload` with the event's schema and maps the (expected) failure. */
function failureOf(event: ClientEventName, payload: unknown) {
  const parsed = ClientPayloadSchemas[event].safeParse(payload);
  if (parsed.success) throw new Error(`expected ${JSON.stringify(payload)} to be invalid for ${event}`);
  return validationFailure(event, parsed.error).error;
}

describe("validationFailure", () => {
  it.each<[string, ClientEventName, unknown, string]>([
    ["blank body", "message:send", { roomId: "general", clientId: UUID, body: "  " }, "MESSAGE_BLANK"],
    ["empty body", "message:send", { roomId: "general", clientId: UUID, body: "" }, "MESSAGE_BLANK"],
    ["4001-character body", "message:send", { roomId: "general", clientId: UUID, body: "x".repeat(4001) }, "MESSAGE_TOO_LONG"],
    ["4001 spaces", "message:send", { roomId: "general", clientId: UUID, body: " ".repeat(4001) }, "MESSAGE_TOO_LONG"],
    ["body of the wrong type", "message:send", { roomId: "general", clientId: UUID, body: 1 }, "INVALID_PAYLOAD"],
    ["missing body", "message:send", { roomId: "general", clientId: UUID }, "INVALID_PAYLOAD"],
    ["non-UUID clientId", "message:send", { roomId: "general", clientId: "x", body: "hi" }, "INVALID_PAYLOAD"],
    ["extra key", "message:send", { roomId: "general", clientId: UUID, body: "hi", x: 1 }, "INVALID_PAYLOAD"],
    ["no payload", "message:send", undefined, "INVALID_PAYLOAD"],
    ["65-character room name", "room:create", { name: "r".repeat(65) }, "ROOM_NAME_INVALID"],
    ["blank room name", "room:create", { name: "   " }, "ROOM_NAME_INVALID"],
    ["room name of the wrong type", "room:create", { name: 42 }, "INVALID_PAYLOAD"],
    ["room:create with an extra key", "room:create", { name: "ok", x: 1 }, "INVALID_PAYLOAD"],
    // A field named `body` or `name` on another event is not a message body or a room name.
    ["too-long search on rooms:list", "rooms:list", { query: "q".repeat(65) }, "INVALID_PAYLOAD"],
    ["both cursors on messages:fetch", "messages:fetch", { roomId: "general", afterSeq: 1, beforeSeq: 2 }, "INVALID_PAYLOAD"],
    ["negative seq on room:read", "room:read", { roomId: "general", seq: -1 }, "INVALID_PAYLOAD"],
  ])("%s (%s) -> %s", (_what, event, payload, code) => {
    const error = failureOf(event, payload);
    expect(error.code).toBe(code);
    expect(error.message.length).toBeGreaterThan(0);
  });

  it("names the offending field in INVALID_PAYLOAD messages", () => {
    expect(failureOf("message:send", { roomId: "general", clientId: "x", body: "hi" }).message).toMatch(/^clientId: /);
    expect(failureOf("session:sync", { extra: true }).message).toMatch(/^payload: /);
  });

  it("uses the schema's sentence for body and room name failures", () => {
    expect(failureOf("message:send", { roomId: "general", clientId: UUID, body: " " }).message).toBe("Message is blank");
    expect(failureOf("room:create", { name: "r".repeat(65) }).message).toBe("Room name must be at most 64 characters");
  });
});

describe("toAck", () => {
  it("keeps a DomainError's code and message without logging", () => {
    const logged: unknown[] = [];
    const logger: Logger = { info: () => {}, error: (...args) => logged.push(args) };
    expect(toAck(new DomainError("NOT_A_MEMBER", "Nope."), logger, "x")).toEqual({ ok: false, error: { code: "NOT_A_MEMBER", message: "Nope." } });
    expect(logged).toEqual([]);
  });

  it("answers anything else with a generic INTERNAL and logs the details", () => {
    const logged: unknown[][] = [];
    const logger: Logger = { info: () => {}, error: (...args) => logged.push(args) };
    const result = toAck(new Error("SQLITE_BUSY: secret table name"), logger, "message:send");
    expect(result.error.code).toBe("INTERNAL");
    expect(result.error.message).not.toContain("SQLITE");
    expect(logged).toHaveLength(1);
    expect(logged[0]![0]).toBe("message:send failed");
  });
});
