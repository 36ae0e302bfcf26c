import { afterEach, describe, expect, it, vi } from "vitest";
import { createXhrUploadTransport, readOutcome } from "../src/realtime/xhr-upload.js";

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

/** A stand-in for the browser's XMLHttpRequest: records what was sent, and the test plays the network. */
class FakeXhr {
  static last: FakeXhr | null = null;
  headers: Record<string, string> = {};
  method = "";
  url = "";
  body: unknown = null;
  aborted = false;
  status = 0;
  responseText = "";
  responseType = "";
  upload: { onprogress: ((e: { loaded: number; total: number; lengthComputable: boolean }) => void) | null; onload: (() => void) | null } = { onprogress: null, onload: null };
  onprogress: (() => void) | null = null;
  onerror: (() => void) | null = null;
  onabort: (() => void) | null = null;
  onload: (() => void) | null = null;
  constructor() {
    FakeXhr.last = this;
  }
  open(method: string, url: string) {
    this.method = method;
    this.url = url;
  }
  setRequestHeader(name: string, value: string) {
    this.headers[name] = value;
  }
  getResponseHeader() {
    return null;
  }
  send(body: unknown) {
    this.body = body;
  }
  abort() {
    this.aborted = true;
    this.onabort?.();
  }
}

describe("createXhrUploadTransport", () => {
  const setup = () => {
    vi.stubGlobal("XMLHttpRequest", FakeXhr);
    const progress: number[] = [];
    const controller = new AbortController();
    const file = new File(["hello world"], "a.txt", { type: "application/json" });
    const outcome = createXhrUploadTransport(1_000).upload({ url: "/api/rooms/r1/files?name=a.txt", uploadId: "u-1", file, signal: controller.signal, onProgress: (sent, total) => progress.push(sent / total) });
    return { xhr: FakeXhr.last!, progress, controller, outcome, file };
  };
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  it("POSTs the file itself with the upload id, as octet-stream whatever it claims, and reports progress", async () => {
    const { xhr, progress, outcome, file } = setup();
    expect(xhr).toMatchObject({ method: "POST", url: "/api/rooms/r1/files?name=a.txt", body: file });
    expect(xhr.headers).toEqual({ "X-Upload-Id": "u-1", "Content-Type": "application/octet-stream" });
    xhr.upload.onprogress?.({ loaded: 5, total: 10, lengthComputable: true });
    xhr.status = 201;
    xhr.responseText = JSON.stringify({ attachment: att });
    xhr.onload?.();
    expect(await outcome).toEqual({ ok: true, attachment: att });
    expect(progress).toEqual([0.5]);
  });

  it("aborting gives ABORTED, a network error NETWORK", async () => {
    const first = setup();
    first.controller.abort();
    expect(first.xhr.aborted).toBe(true);
    expect(await first.outcome).toEqual({ ok: false, status: 0, code: "ABORTED" });
    const second = setup();
    second.xhr.onerror?.();
    expect(await second.outcome).toEqual({ ok: false, status: 0, code: "NETWORK" });
  });

  it("an upload silent for the stall time is ended (TIMEOUT); progress keeps it alive", async () => {
    vi.useFakeTimers();
    const { xhr, outcome } = setup();
    vi.advanceTimersByTime(900);
    xhr.upload.onprogress?.({ loaded: 1, total: 10, lengthComputable: true });
    vi.advanceTimersByTime(900);
    expect(xhr.aborted).toBe(false);
    vi.advanceTimersByTime(200);
    expect(xhr.aborted).toBe(true);
    expect(await outcome).toEqual({ ok: false, status: 0, code: "TIMEOUT" });
  });
});
