import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { BODY_TEXT, MessageBodySchema, NAME_TEXT, NicknameSchema, PasswordSchema, RoomNameSchema, findForbiddenCharacter } from "../src/index.js";

const UNITS = ["a", " ", "\n", "\t", "é", "名", "👍", "\u200d", "\u200c", "\u0000", "\u202e", "\ud800", "\udc00", "\u{1f3f4}", "\u{e0067}", "\ufe0f"];

describe("findForbiddenCharacter", () => {
  it.each<[string, string, boolean, boolean]>([
    // [what, text, allowed in a body, allowed in a name]
    ["plain text", "hello, world", true, true],
    ["accents, CJK, emoji", "Zoë 名前 👍🏽", true, true],
    ["a newline and a tab", "line one\n\tline two", true, false],
    ["a carriage return", "a\r\nb", false, false],
    ["NUL", "a\u0000b", false, false],
    ["ESC (terminal escape sequences)", "\u001b[31mred", false, false],
    ["DEL", "a\u007f", false, false],
    ["a C1 control (NEL)", "a\u0085b", false, false],
    ["right-to-left override (Trojan Source)", "abc\u202etxt.exe", false, false],
    ["a bidi isolate", "\u2067x\u2069", false, false],
    ["zero-width space", "ad\u200bmin", false, false],
    ["word joiner", "ad\u2060min", false, false],
    ["byte order mark inside", "a\ufeffb", false, false],
    ["soft hyphen", "ad\u00admin", false, false],
    ["a lone high surrogate", "\ud800", false, false],
    ["a lone low surrogate", "x\udc00y", false, false],
    ["a surrogate pair in the wrong order", "\udc00\ud800", false, false],
    ["ZWJ emoji sequence (family)", "👨‍👩‍👧", true, true],
    ["ZWJ emoji with skin tone and VS16 (health worker, rainbow flag)", "🧑🏽‍⚕️ 🏳️‍🌈", true, true],
    ["subdivision flag (tags after a black flag)", "🏴󠁧󠁢󠁥󠁮󠁧󠁿", true, true],
    ["a tag character on its own", "a\u{e0061}", false, false],
    ["ZWJ between letters (Malayalam, Sinhala)", "ന്‍", true, false],
    ["ZWNJ between letters (Persian)", "می‌خواهم", true, false],
    ["ZWJ after an emoji but before a letter", "👍\u200da", false, false],
    ["ZWJ at the start", "\u200d👍", false, false],
    ["ZWNJ at the end", "abc\u200c", false, false],
  ])("%s", (_what, text, inBody, inName) => {
    expect(findForbiddenCharacter(text, BODY_TEXT) === null).toBe(inBody);
    expect(findForbiddenCharacter(text, NAME_TEXT) === null).toBe(inName);
  });

  it("names the code point and its UTF-16 index", () => {
    expect(findForbiddenCharacter("👍 a\u202eb", BODY_TEXT)).toEqual({ codePoint: 0x202e, index: 4 });
    expect(findForbiddenCharacter("ab\ud800", NAME_TEXT)).toEqual({ codePoint: 0xd800, index: 2 });
  });

  it("property: whatever it allows is well-formed UTF-16 without Cc (but \\n, \\t) and without Cf outside joiners and tags", () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...UNITS), { maxLength: 12 }), (parts) => {
        const text = parts.join("");
        if (findForbiddenCharacter(text, BODY_TEXT) !== null) return;
        expect(text).not.toMatch(/\p{Cs}/u);
        expect(text.replace(/[\n\t]/g, "")).not.toMatch(/\p{Cc}/u);
        expect(text.replace(/[\u200c\u200d\u{e0020}-\u{e007f}]/gu, "")).not.toMatch(/\p{Cf}/u);
      }),
      { numRuns: 2000 },
    );
  });
});

describe("schemas refuse what text.ts forbids, with a message naming the character", () => {
  it("message bodies", () => {
    const r = MessageBodySchema.safeParse("hi\u0000");
    expect(r.error?.issues[0]).toMatchObject({ code: "custom", message: "Message contains an invisible or control character (U+0000 at position 2)", params: { errorCode: "MESSAGE_INVALID" } });
    expect(MessageBodySchema.safeParse("\ud800").error?.issues[0]?.message).toBe("Message contains a broken character (U+D800 at position 0)");
    expect(MessageBodySchema.safeParse("two\nlines\tand 👩‍💻").success).toBe(true);
  });

  it("a blank body is blank, whatever else is wrong with it (one issue)", () => {
    expect(MessageBodySchema.safeParse(" \n ").error?.issues).toHaveLength(1);
  });

  it("nicknames and room names", () => {
    expect(NicknameSchema.safeParse("ad\u200bmin").error?.issues[0]?.message).toMatch(/^Nickname contains an invisible or control character \(U\+200B/);
    expect(NicknameSchema.safeParse("Ann\tLee").error?.issues[0]?.message).toMatch(/U\+0009/);
    expect(RoomNameSchema.safeParse("room\u202e").error?.issues[0]).toMatchObject({ params: { errorCode: "ROOM_NAME_INVALID" } });
    expect(RoomNameSchema.safeParse("lounge 🏳️‍🌈").success).toBe(true);
  });

  it("passwords may contain anything printable, and controls too (never shown, only hashed)", () => {
    expect(PasswordSchema.safeParse("p\u202eass\u200bword\u0000").success).toBe(true);
  });
});
