import { describe, expect, it } from "vitest";
import { readOutcome } from "../src/realtime/xhr-upload.js";

const att = { id: "a1", name: "x.png", size: 1, contentType: "image/png", kind: "image", width: 1, height: 1 };

describe("readOutcome", () => {
  it.each([
    { name: "201 with the attachment", status: 201, text: JSON.stringify({ attachment: att }), retryAfter: null, out: { ok: true, attachment: att } },
    { name: "200 (a repeat of the same upload id)", status: 200, text: JSON.stringify({ attachment: att }), retryAfter: null, out: { ok: true, attachment: att } },
    { name: "200 we cannot read: tried again", status: 200, text: "<html>", retryAfter: null, out: { ok: false, status: 502, code: "INTERNAL" } },
    { name: "413 FILE_TOO_LARGE", status: 413, text: JSON.stringify({ error: { code: "FILE_TOO_LARGE", message: "" } }), retryAfter: null, out: { ok: false, status: 413, code: "FILE_TOO_LARGE" } },
    { name: "413 quota", status: 413, text: JSON.stringify({ error: { code: "UPLOAD_QUOTA_EXCEEDED", message: "" } }), retryAfter: null, out: { ok: false, status: 413, code: "UPLOAD_QUOTA_EXCEEDED" } },
    { name: "413 from a proxy (HTML)", status: 413, text: "<html>Request Entity Too Large</html>", retryAfter: null, out: { ok: false, status: 413, code: "FILE_TOO_LARGE" } },
    { name: "408 stalled", status: 408, text: "", retryAfter: null, out: { ok: false, status: 408, code: "UPLOAD_STALLED" } },
    { name: "429 with retryAfterMs", status: 429, text: JSON.stringify({ error: { code: "RATE_LIMITED", message: "", retryAfterMs: 1500 } }), retryAfter: "2", out: { ok: false, status: 429, code: "RATE_LIMITED", retryAfterMs: 1500 } },
    { name: "429 with only Retry-After", status: 429, text: "", retryAfter: "2", out: { ok: false, status: 429, code: "RATE_LIMITED", retryAfterMs: 2000 } },
    { name: "502 from a proxy", status: 502, text: "Bad Gateway", retryAfter: null, out: { ok: false, status: 502, code: "INTERNAL" } },
  ])("$name", ({ status, text, retryAfter, out }) => {
    expect(readOutcome(status, text, retryAfter)).toEqual(out);
  });
});
