import type { Message } from "@parley/shared";
import { describe, expect, it } from "vitest";
import { systemText } from "../src/features/chat/system-text.js";
import { estimateItem } from "../src/features/chat/row-estimate.js";
import { t } from "../src/i18n/index.js";

const line = (body: unknown, kind: Message["kind"] = "system") => ({ kind, body: typeof body === "string" ? body : JSON.stringify(body), authorNickname: "alice" });
const bob = { id: "u2", nickname: "bob" };

describe("systemText: moderation lines in the reader's language", () => {
  it.each([
    [line({ type: "kick", target: bob }), "alice removed bob"],
    [line({ type: "ban", target: bob, reason: "" }), "alice banned bob"],
    [line({ type: "ban", target: bob, reason: "spam" }), "alice banned bob (spam)"],
    [line({ type: "unban", target: bob }), "alice unbanned bob"],
    [line({ type: "invite", target: bob }), "alice added bob"],
    [line({ type: "role", target: bob, role: "moderator" }), "alice made bob a moderator"],
    [line({ type: "role", target: bob, role: "member" }), "alice removed bob as a moderator"],
    [line({ type: "rename", from: "a", to: "b" }), "alice renamed the room from #a to #b"],
    [line({ type: "topic", topic: "Release on Friday" }), "alice set the topic: Release on Friday"],
    [line({ type: "topic", topic: "" }), "alice cleared the topic"],
    [line({ type: "inviteOnly", inviteOnly: true }), "alice made the room invite-only"],
    [line({ type: "inviteOnly", inviteOnly: false }), "alice opened the room to everyone"],
    [line("", "join"), "alice joined the room"],
    [line("", "leave"), "alice left the room"],
    // A newer server's event, or a broken body: never raw JSON on screen.
    [line({ type: "somethingNew" }), "alice changed the room"],
    [line("{not json"), "alice changed the room"],
  ])("%j", (message, expected) => {
    expect(systemText(message, t)).toBe(expected);
  });
});

describe("row estimates of system lines", () => {
  const system = (body: string): Parameters<typeof estimateItem>[0] => ({ type: "system", key: "k", message: { kind: "system", body } as Message });
  it("one line for a short one; a long topic wraps", () => {
    expect(estimateItem(system(JSON.stringify({ type: "topic", topic: "short" })))).toBe(30);
    expect(estimateItem(system(JSON.stringify({ type: "topic", topic: "x".repeat(240) })))).toBeGreaterThan(30);
  });
});

