import { describe, expect, it } from "vitest";
import {
  ClientIdSchema,
  ClientPayloadSchemas,
  EmojiSchema,
  LIMITS,
  LoginRequestSchema,
  MessageBodySchema,
  NicknameSchema,
  PasswordSchema,
  RoomNameSchema,
} from "../src/index.js";

describe("NicknameSchema", () => {
  it("trims", () => {
    expect(NicknameSchema.parse("  Ann Lee  ")).toBe("Ann Lee");
  });

  it.each(["a", "x".repeat(32), "Ann Lee", "Zoë", "名前", "o'brien_99"])("accepts %j", (nick) => {
    expect(NicknameSchema.safeParse(nick).success).toBe(true);
  });

  it.each([
    ["empty", ""],
    ["blank", "   "],
    ["33 characters", "x".repeat(33)],
    ["33 characters after trimming 2", ` ${"x".repeat(33)} `],
    ["an @", "ann@home"],
    ["< or >", "<script>"],
    ["two spaces in a row", "Ann  Lee"],
    ["a tab", "Ann\tLee"],
    ["not a string", 42],
  ])("refuses %s", (_what, nick) => {
    expect(NicknameSchema.safeParse(nick).success).toBe(false);
  });

  it("counts the limit after trimming", () => {
    expect(NicknameSchema.parse(`   ${"x".repeat(32)}   `)).toHaveLength(32);
  });
});

describe("PasswordSchema", () => {
  it.each([
    ["7 characters", "x".repeat(7), false],
    ["8 characters", "x".repeat(8), true],
    ["256 characters", "x".repeat(256), true],
    ["257 characters", "x".repeat(257), false],
  ])("%s -> %s", (_what, password, ok) => {
    expect(PasswordSchema.safeParse(password).success).toBe(ok);
  });

  it("does not trim (spaces are part of a password)", () => {
    expect(PasswordSchema.parse("  spaced  ")).toBe("  spaced  ");
  });
});

describe("MessageBodySchema", () => {
  it.each([
    ["empty", "", "Message is blank"],
    ["spaces", "   ", "Message is blank"],
    ["newlines and tabs", "\n\t \n", "Message is blank"],
    ["4001 characters", "x".repeat(LIMITS.messageMax + 1), "Message is longer than 4000 characters"],
  ])("refuses %s", (_what, body, message) => {
    const r = MessageBodySchema.safeParse(body);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]?.message).toBe(message);
  });

  it("accepts exactly 4000 characters and keeps the body as typed", () => {
    expect(MessageBodySchema.parse("x".repeat(4000))).toHaveLength(4000);
    expect(MessageBodySchema.parse("  hi  ")).toBe("  hi  ");
    expect(MessageBodySchema.parse("a")).toBe("a");
  });
});

describe("RoomNameSchema", () => {
  it("trims, and counts the 64-character limit after trimming", () => {
    expect(RoomNameSchema.parse("  lounge ")).toBe("lounge");
    expect(RoomNameSchema.parse(` ${"r".repeat(64)} `)).toHaveLength(64);
  });

  it.each([
    ["blank", "  "],
    ["65 characters", "r".repeat(65)],
  ])("refuses %s", (_what, name) => {
    expect(RoomNameSchema.safeParse(name).success).toBe(false);
  });
});

describe("ClientIdSchema", () => {
  it("accepts a UUID and refuses anything else", () => {
    expect(ClientIdSchema.safeParse("6f1c1a3e-8a4b-4c1e-9f7a-2b3c4d5e6f70").success).toBe(true);
    expect(ClientIdSchema.safeParse("6f1c1a3e8a4b4c1e9f7a2b3c4d5e6f70").success).toBe(false);
    expect(ClientIdSchema.safeParse("").success).toBe(false);
  });
});

describe("payload schemas", () => {
  it("are strict: unknown keys are refused", () => {
    expect(ClientPayloadSchemas["session:sync"].safeParse({ x: 1 }).success).toBe(false);
    expect(ClientPayloadSchemas["room:join"].safeParse({ roomId: "r", extra: 1 }).success).toBe(false);
    expect(LoginRequestSchema.safeParse({ nickname: "ann", password: "password1", admin: true }).success).toBe(false);
  });

  it("messages:fetch takes afterSeq or beforeSeq, not both, and a limit within 1..pageMax", () => {
    const fetch = ClientPayloadSchemas["messages:fetch"];
    expect(fetch.safeParse({ roomId: "r" }).success).toBe(true);
    expect(fetch.safeParse({ roomId: "r", afterSeq: 0 }).success).toBe(true);
    expect(fetch.safeParse({ roomId: "r", beforeSeq: 10, limit: LIMITS.pageMax }).success).toBe(true);
    expect(fetch.safeParse({ roomId: "r", afterSeq: 0, beforeSeq: 10 }).success).toBe(false);
    expect(fetch.safeParse({ roomId: "r", limit: 0 }).success).toBe(false);
    expect(fetch.safeParse({ roomId: "r", limit: LIMITS.pageMax + 1 }).success).toBe(false);
  });

  it("messages:fetch takes at most one of afterSeq, beforeSeq, aroundSeq and changedSince", () => {
    const fetch = ClientPayloadSchemas["messages:fetch"];
    expect(fetch.safeParse({ roomId: "r", aroundSeq: 5 }).success).toBe(true);
    expect(fetch.safeParse({ roomId: "r", changedSince: 0 }).success).toBe(true);
    expect(fetch.safeParse({ roomId: "r", aroundSeq: 5, changedSince: 0 }).success).toBe(false);
    expect(fetch.safeParse({ roomId: "r", afterSeq: 5, changedSince: 0 }).success).toBe(false);
    expect(fetch.safeParse({ roomId: "r", changedSince: -1 }).success).toBe(false);
  });

  it("message:edit needs the base version; reaction:set needs on", () => {
    expect(ClientPayloadSchemas["message:edit"].safeParse({ messageId: "m", body: "b", baseVersion: 3 }).success).toBe(true);
    expect(ClientPayloadSchemas["message:edit"].safeParse({ messageId: "m", body: "b" }).success).toBe(false);
    expect(ClientPayloadSchemas["message:edit"].safeParse({ messageId: "m", body: "b", baseVersion: 1.5 }).success).toBe(false);
    expect(ClientPayloadSchemas["reaction:set"].safeParse({ messageId: "m", emoji: "👍", on: true }).success).toBe(true);
    expect(ClientPayloadSchemas["reaction:set"].safeParse({ messageId: "m", emoji: "👍" }).success).toBe(false);
    expect(ClientPayloadSchemas["message:send"].safeParse({ roomId: "r", clientId: "6f1c1a3e-8a4b-4c1e-9f7a-2b3c4d5e6f70", body: "b", replyToId: "m" }).success).toBe(true);
    // A blank body is a message only with files; at most LIMITS.attachmentsPerMessage, no repeats.
    const send = (extra: object) => ClientPayloadSchemas["message:send"].safeParse({ roomId: "r", clientId: "6f1c1a3e-8a4b-4c1e-9f7a-2b3c4d5e6f70", ...extra });
    expect(send({ body: "", attachmentIds: ["f1"] }).success).toBe(true);
    expect(send({ body: " ", attachmentIds: [] }).error?.issues[0]).toMatchObject({ path: ["body"], params: { errorCode: "MESSAGE_BLANK" } });
    expect(send({ body: "" }).error?.issues[0]).toMatchObject({ path: ["body"], params: { errorCode: "MESSAGE_BLANK" } });
    expect(send({ body: "x", attachmentIds: Array.from({ length: 11 }, (_, i) => `f${i}`) }).success).toBe(false);
    expect(send({ body: "x", attachmentIds: ["f1", "f1"] }).success).toBe(false);
    expect(send({ body: "x", attachmentIds: { length: 3 } }).success).toBe(false);
  });

  it("room:create trims the name it parses", () => {
    expect(ClientPayloadSchemas["room:create"].parse({ name: "  lounge " })).toEqual({ name: "lounge" });
  });
});

describe("EmojiSchema", () => {
  it.each(["👍", "👍🏽", "❤️", "🇨🇳", "1️⃣", "#️⃣", "👨‍👩‍👧", "🏴‍☠️", "©️", "🏴󠁧󠁢󠁳󠁣󠁴󠁿"])("accepts %s", (emoji) => {
    expect(EmojiSchema.safeParse(emoji).success).toBe(true);
  });

  it.each(["", "a", "ok", "👍 ", " 👍", "👍ok", "<img>", "\u200D", "\uFE0F", "12", "👍".repeat(LIMITS.emojiMax)])("refuses %j with EMOJI_INVALID", (emoji) => {
    const r = EmojiSchema.safeParse(emoji);
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({ params: { errorCode: "EMOJI_INVALID" } });
  });

  it("refuses what is not a string without throwing", () => {
    expect(EmojiSchema.safeParse({ length: 1 }).success).toBe(false);
    expect(EmojiSchema.safeParse(42).success).toBe(false);
  });
});
