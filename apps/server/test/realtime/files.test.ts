import { randomUUID } from "node:crypto";
import { request as httpRequest } from "node:http";
import sharp from "sharp";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { API, DEFAULT_ROOM_ID, fromWireMessage, UPLOAD_ID_HEADER, type Attachment, type UploadResponse } from "@parley/shared";
import { closeAllSockets, connect, nextEvent, request, requestOk, signInOk, startServer, type ClientSocket, type TestServer } from "../helpers/server.js";

/**
 * Files over a real server (issue 13, ADR 0014): uploads over HTTP, sends that carry them over the
 * socket, and who may read them. The blob store and the storage have their own contract suites;
 * this is the product's behaviour end to end: sniffing, metadata stripped, limits before and after
 * the bytes, idempotent uploads, and a non-member never getting a byte.
 */

const FILE_MAX = 256 * 1024;
const DAILY_MAX = 700 * 1024;

let server: TestServer;
let alice: ClientSocket;
let bob: ClientSocket;
let carol: ClientSocket;
let cookies: Record<"alice" | "bob" | "carol", string>;

beforeEach(async () => {
  server = await startServer({ app: { uploads: { fileMaxBytes: FILE_MAX, dailyMaxBytes: DAILY_MAX, stallTimeoutMs: 400 } } });
  const [a, b, c] = [await signInOk(server.url, "Alice"), await signInOk(server.url, "Bob"), await signInOk(server.url, "Carol")];
  cookies = { alice: a.cookie, bob: b.cookie, carol: c.cookie };
  [alice, bob, carol] = await Promise.all([connect(server.url, a.cookie), connect(server.url, b.cookie), connect(server.url, c.cookie)]);
});
afterEach(async () => {
  closeAllSockets();
  await server.stop();
});

interface UploadOptions {
  cookie?: string;
  roomId?: string;
  name?: string;
  uploadId?: string;
  /** A Content-Type the client claims (the server sniffs its own). */
  type?: string;
}

async function upload(bytes: Uint8Array, o: UploadOptions = {}): Promise<{ status: number; body: { attachment?: Attachment; error?: { code: string; message: string } } }> {
  const url = `${server.url}${API.upload(o.roomId ?? DEFAULT_ROOM_ID)}?name=${encodeURIComponent(o.name ?? "file.bin")}`;
  const res = await fetch(url, {
    method: "POST",
    headers: { cookie: o.cookie ?? cookies.alice, [UPLOAD_ID_HEADER]: o.uploadId ?? randomUUID(), "content-type": o.type ?? "application/octet-stream" },
    body: bytes,
  });
  return { status: res.status, body: (await res.json()) as UploadResponse };
}

async function uploadOk(bytes: Uint8Array, o: UploadOptions = {}): Promise<Attachment> {
  const { status, body } = await upload(bytes, o);
  expect(status, JSON.stringify(body)).toBe(201);
  return body.attachment!;
}

const get = (path: string, cookie = cookies.alice, headers: Record<string, string> = {}) => fetch(`${server.url}${path}`, { headers: { cookie, ...headers } });

/** A 40 x 20 JPEG whose EXIF says: turn me 90° (orientation 6), made by PhoneCo, at a GPS position. */
const photoWithGps = () =>
  sharp({ create: { width: 40, height: 20, channels: 3, background: "#c33" } })
    .jpeg()
    .withExif({ IFD0: { Make: "PhoneCo", Copyright: "Alice" }, IFD3: { GPSLatitudeRef: "N", GPSLatitude: "51/1 30/1 0/1" } })
    .withMetadata({ orientation: 6 })
    .toBuffer();

const png = (width: number, height: number) => sharp({ create: { width, height, channels: 4, background: "#3a7" } }).png().toBuffer();

const send = (s: ClientSocket, attachmentIds: string[], body = "", roomId = DEFAULT_ROOM_ID) =>
  request(s, "message:send", { roomId, clientId: randomUUID(), body, attachmentIds });

describe("uploads", () => {
  it("an image: EXIF (GPS included) stripped from the stored copy, turned upright, thumbnailed", async () => {
    const original = await photoWithGps();
    expect((await sharp(original).metadata()).exif).toBeDefined();
    // The claimed type is a lie on purpose: the server sniffs.
    const attachment = await uploadOk(original, { name: "IMG_0001.jpg", type: "text/html" });
    // Orientation 6 applied: 40 x 20 stands up as 20 x 40.
    expect(attachment).toMatchObject({ name: "IMG_0001.jpg", contentType: "image/jpeg", kind: "image", width: 20, height: 40 });

    const file = await get(API.file(attachment.id));
    expect(file.status).toBe(200);
    const stored = Buffer.from(await file.arrayBuffer());
    expect(stored.length).toBe(attachment.size);
    const meta = await sharp(stored).metadata();
    expect(meta).toMatchObject({ format: "jpeg", width: 20, height: 40 });
    expect(meta.exif).toBeUndefined();
    expect(meta.orientation).toBeUndefined();
    expect(stored.includes("PhoneCo")).toBe(false);
    expect(file.headers.get("content-type")).toBe("image/jpeg");
    expect(file.headers.get("content-disposition")).toMatch(/^inline; filename="IMG_0001.jpg"/);

    const thumb = await get(API.thumbnail(attachment.id));
    expect(thumb.headers.get("content-type")).toBe("image/webp");
    expect(await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).toMatchObject({ format: "webp", width: 20, height: 40 });
  });

  it("a large image's thumbnail fits 480 px; its stored copy keeps its size", async () => {
    const attachment = await uploadOk(await png(1200, 600), { name: "wide.png" });
    expect(attachment).toMatchObject({ kind: "image", contentType: "image/png", width: 1200, height: 600 });
    const thumb = await get(API.thumbnail(attachment.id));
    expect(await sharp(Buffer.from(await thumb.arrayBuffer())).metadata()).toMatchObject({ width: 480, height: 240 });
  });

  it("the same upload id twice: the first attachment, and the bytes are not read again", async () => {
    const uploadId = randomUUID();
    const first = await uploadOk(await png(10, 10), { uploadId });
    const again = await upload(await png(10, 10), { uploadId });
    expect(again.status).toBe(200);
    expect(again.body.attachment).toEqual(first);
    // Another user with the same id is another upload.
    const bobs = await upload(await png(10, 10), { uploadId, cookie: cookies.bob });
    expect(bobs.status).toBe(201);
    expect(bobs.body.attachment!.id).not.toBe(first.id);
  });

  it("a repeat of an upload still being sent is answered once its body has arrived, not with a reset", async () => {
    const uploadId = randomUUID();
    const bytes = new Uint8Array(200_000).map((_, i) => i % 13);
    const first = await uploadOk(bytes, { uploadId });
    const chunks = Array.from({ length: 10 }, (_, i) => Buffer.from(bytes.subarray(i * 20_000, (i + 1) * 20_000)));
    const again = await rawUpload({ contentLength: bytes.length, send: chunks, uploadId });
    expect(again).toMatchObject({ status: 200, body: { attachment: first } });
    // Read to its end, so the connection stays open: closing it under a browser still sending makes
    // the browser report a reset instead of this answer (and its client retry for nothing).
    expect(again.headers?.["connection"]).not.toBe("close");
    expect(again.sentAll).toBe(true);
  });

  it("HTML and SVG are files, whatever they claim, and download instead of rendering", async () => {
    const html = await uploadOk(new TextEncoder().encode("<!doctype html><script>alert(document.cookie)</script>"), { name: "cute.png", type: "image/png" });
    const svg = await uploadOk(new TextEncoder().encode('<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"></svg>'), { name: "logo.svg", type: "image/svg+xml" });
    expect(html).toMatchObject({ kind: "file", contentType: "text/html", width: null, height: null });
    expect(svg).toMatchObject({ kind: "file", contentType: "image/svg+xml" });
    for (const [a, name] of [[html, "cute.png"], [svg, "logo.svg"]] as const) {
      await requestOk(alice, "message:send", { roomId: DEFAULT_ROOM_ID, clientId: randomUUID(), body: "", attachmentIds: [a.id] });
      const res = await get(API.file(a.id), cookies.bob);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-disposition")).toBe(`attachment; filename="${name}"; filename*=UTF-8''${name}`);
      expect(res.headers.get("x-content-type-options")).toBe("nosniff");
      expect(res.headers.get("content-security-policy")).toContain("sandbox");
      expect(res.headers.get("content-security-policy")).toContain("default-src 'none'");
      // No thumbnail for a file.
      expect((await get(API.thumbnail(a.id), cookies.bob)).status).toBe(404);
    }
  });

  it("a PDF keeps its type and name; a name with a path, controls or bidi tricks is cleaned", async () => {
    const pdf = await uploadOk(new TextEncoder().encode("%PDF-1.7\n%\u00e2\u00e3\n1 0 obj\n<<>>\nendobj\n"), { name: "../../etc/re\u202Eport\u0007.pdf" });
    expect(pdf).toMatchObject({ kind: "file", contentType: "application/pdf", name: "report.pdf" });
    const res = await get(API.file(pdf.id));
    expect(res.headers.get("content-disposition")).toBe(`attachment; filename="report.pdf"; filename*=UTF-8''report.pdf`);
    // A name in Chinese survives, with an ASCII fallback for old clients.
    const zh = await uploadOk(new TextEncoder().encode("你好"), { name: "会议记录.txt" });
    expect(zh).toMatchObject({ name: "会议记录.txt", contentType: "text/plain" });
    const zhRes = await get(API.file(zh.id));
    expect(zhRes.headers.get("content-disposition")).toBe(`attachment; filename="____.txt"; filename*=UTF-8''${encodeURIComponent("会议记录.txt")}`);
    expect(zhRes.headers.get("content-type")).toBe("text/plain; charset=utf-8");
  });

  it("serves byte ranges", async () => {
    const bytes = new Uint8Array(1000).map((_, i) => i % 251);
    const a = await uploadOk(bytes);
    const res = await get(API.file(a.id), cookies.alice, { range: "bytes=100-199" });
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe("bytes 100-199/1000");
    expect(Buffer.from(await res.arrayBuffer())).toEqual(Buffer.from(bytes.subarray(100, 200)));
    const past = await get(API.file(a.id), cookies.alice, { range: "bytes=5000-" });
    expect(past.status).toBe(416);
    // Unchanged bytes are not sent twice.
    const etag = res.headers.get("etag")!;
    expect((await get(API.file(a.id), cookies.alice, { "if-none-match": etag })).status).toBe(304);
  });
});

describe("limits", () => {
  it("a file over the size limit is refused from its Content-Length, before its bytes are read", async () => {
    // Only the headers go out: the answer must come without the body.
    const answer = await rawUpload({ contentLength: FILE_MAX + 1, send: [] });
    expect(answer.status).toBe(413);
    expect(answer.body).toMatchObject({ error: { code: "FILE_TOO_LARGE" } });
    expect(await server.storage.uploadedBytesSince((await whoIs("Alice")).id, 0)).toBe(0);
  });

  it("a body without Content-Length is refused with a clear error", async () => {
    const answer = await rawUpload({ contentLength: null, send: [Buffer.from("hello")] });
    expect(answer.status).toBe(400);
    expect(answer.body).toMatchObject({ error: { code: "UPLOAD_INVALID" } });
  });

  it("the daily quota: refused before the bytes when the declared size is over it", async () => {
    const chunk = new Uint8Array(FILE_MAX).fill(7);
    await uploadOk(chunk);
    await uploadOk(chunk.map((_, i) => i % 7));
    const over = await upload(chunk.map((_, i) => i % 5));
    expect(over.status).toBe(413);
    expect(over.body).toMatchObject({ error: { code: "UPLOAD_QUOTA_EXCEEDED" } });
    // Bob's quota is his own.
    expect((await upload(chunk, { cookie: cookies.bob })).status).toBe(201);
  });

  it("an upload that stops sending is ended with 408 and stores nothing; the retry succeeds", async () => {
    const uploadId = randomUUID();
    const answer = await rawUpload({ contentLength: 10_000, send: [Buffer.alloc(2000, 1)], uploadId });
    expect(answer.status).toBe(408);
    expect(answer.body).toMatchObject({ error: { code: "UPLOAD_STALLED" } });
    expect(await server.storage.findUpload((await whoIs("Alice")).id, uploadId)).toBeNull();
    expect((await upload(new Uint8Array(10_000), { uploadId })).status).toBe(201);
  });

  it("an upload cut off mid-way stores nothing; the retry with the same upload id succeeds", async () => {
    const uploadId = randomUUID();
    await rawUpload({ contentLength: 10_000, send: [Buffer.alloc(3000, 2)], uploadId, cut: true });
    expect(await server.storage.findUpload((await whoIs("Alice")).id, uploadId)).toBeNull();
    const retried = await upload(new Uint8Array(10_000).fill(2), { uploadId });
    expect(retried.status).toBe(201);
  });

  it("a signed-in user's refusal is answered after the body; without a session the connection closes at once", async () => {
    const secret = await requestOk(alice, "room:create", { name: "secret" });
    const refused = await rawUpload({ contentLength: 60_000, send: [Buffer.alloc(30_000, 1), Buffer.alloc(30_000, 2)], roomId: secret.id, cookie: cookies.bob });
    expect(refused).toMatchObject({ status: 403, body: { error: { code: "NOT_A_MEMBER" } }, sentAll: true });
    expect(refused.headers?.["connection"]).not.toBe("close");
    // Only the headers: the server must neither wait for nor read the body of a stranger.
    const stranger = await rawUpload({ contentLength: 60_000, send: [], cookie: "parley_session=forged" });
    expect(stranger).toMatchObject({ status: 401, body: { error: { code: "UNAUTHENTICATED" } } });
    expect(stranger.headers?.["connection"]).toBe("close");
  });

  it("refuses a non-member's upload into a room, and bad requests, with clear codes", async () => {
    const secret = await requestOk(alice, "room:create", { name: "secret" });
    expect(await upload(new Uint8Array(10), { roomId: secret.id, cookie: cookies.bob })).toMatchObject({ status: 403, body: { error: { code: "NOT_A_MEMBER" } } });
    expect(await upload(new Uint8Array(10), { roomId: "no-such-room" })).toMatchObject({ status: 403, body: { error: { code: "NOT_A_MEMBER" } } });
    expect(await upload(new Uint8Array(10), { uploadId: "not-a-uuid" })).toMatchObject({ status: 400, body: { error: { code: "UPLOAD_INVALID" } } });
    expect(await upload(new Uint8Array(10), { cookie: "parley_session=forged" })).toMatchObject({ status: 401, body: { error: { code: "UNAUTHENTICATED" } } });
    const noName = await fetch(`${server.url}${API.upload(DEFAULT_ROOM_ID)}`, { method: "POST", headers: { cookie: cookies.alice, [UPLOAD_ID_HEADER]: randomUUID() }, body: new Uint8Array(3) });
    expect(noName.status).toBe(400);
    // A file that claims JSON is a file, not a request body for the JSON parser.
    const json = await upload(new TextEncoder().encode(JSON.stringify({ big: "x".repeat(40_000) })), { type: "application/json", name: "data.json" });
    expect(json.status).toBe(201);
    expect(json.body.attachment).toMatchObject({ contentType: "text/plain", kind: "file" });
  });
});

describe("messages with files", () => {
  it("a send carries its files to every member live; a blank body needs a file", async () => {
    const image = await uploadOk(await png(64, 48), { name: "screenshot.png" });
    const pdf = await uploadOk(new TextEncoder().encode("%PDF-1.4\n"), { name: "plan.pdf" });
    const arrived = nextEvent(bob, "message:created");
    const ack = await send(alice, [image.id, pdf.id], "");
    expect(ack.ok).toBe(true);
    const message = await arrived;
    expect(message).toMatchObject({ body: "", attachments: [image, pdf] });
    expect((await requestOk(bob, "messages:fetch", { roomId: DEFAULT_ROOM_ID })).messages.at(-1)).toEqual(fromWireMessage(message));
    // Bob, a member, reads both.
    expect((await get(API.file(image.id), cookies.bob)).status).toBe(200);
    expect((await get(API.thumbnail(image.id), cookies.bob)).status).toBe(200);
    expect((await get(API.file(pdf.id), cookies.bob)).status).toBe(200);
    expect(await request(alice, "message:send", { roomId: DEFAULT_ROOM_ID, clientId: randomUUID(), body: "  " })).toMatchObject({ ok: false, error: { code: "MESSAGE_BLANK" } });
  });

  it("the retry of a send with files returns the same message; a file is on one message only", async () => {
    const image = await uploadOk(await png(8, 8));
    const payload = { roomId: DEFAULT_ROOM_ID, clientId: randomUUID(), body: "once", attachmentIds: [image.id] };
    const first = await requestOk(alice, "message:send", payload);
    expect(await requestOk(alice, "message:send", payload)).toEqual(first);
    expect(await send(alice, [image.id], "twice")).toMatchObject({ ok: false, error: { code: "ATTACHMENT_NOT_FOUND" } });
    expect((await server.storage.getRoom(DEFAULT_ROOM_ID))!.lastSeq).toBe(first.seq);
  });

  it("refuses another user's upload, another room's, a guessed id, too many or repeated ids", async () => {
    const bobs = await uploadOk(await png(8, 8), { cookie: cookies.bob });
    const other = await requestOk(alice, "room:create", { name: "other" });
    const elsewhere = await uploadOk(await png(8, 8), { roomId: other.id });
    for (const ids of [[bobs.id], [elsewhere.id], [randomUUID()]]) {
      expect(await send(alice, ids, "x")).toMatchObject({ ok: false, error: { code: "ATTACHMENT_NOT_FOUND" } });
    }
    const many = Array.from({ length: 11 }, () => randomUUID());
    expect(await send(alice, many, "x")).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    expect(await send(alice, [elsewhere.id, elsewhere.id], "x", other.id)).toMatchObject({ ok: false, error: { code: "INVALID_PAYLOAD" } });
    // Bob's file was not taken by the failed attempt: he can still send it.
    expect((await send(bob, [bobs.id], "mine")).ok).toBe(true);
  });

  it("only members read a file: not before it is sent, not in a room they are not in, not after a delete", async () => {
    const secret = await requestOk(alice, "room:create", { name: "secret" });
    await requestOk(bob, "room:join", { roomId: secret.id });
    const file = await uploadOk(await png(16, 16), { roomId: secret.id });
    // Unsent: the uploader only.
    expect((await get(API.file(file.id), cookies.alice)).status).toBe(200);
    expect((await get(API.file(file.id), cookies.bob)).status).toBe(404);

    const message = await requestOk(alice, "message:send", { roomId: secret.id, clientId: randomUUID(), body: "for members", attachmentIds: [file.id] });
    expect((await get(API.file(file.id), cookies.bob)).status).toBe(200);
    // Carol is not a member: the same 404 as for an id that does not exist, for the file and the thumbnail.
    const refused = await get(API.file(file.id), cookies.carol);
    expect(refused.status).toBe(404);
    expect(await refused.json()).toEqual(await (await get(API.file(randomUUID()), cookies.carol)).json());
    expect((await get(API.thumbnail(file.id), cookies.carol)).status).toBe(404);
    expect((await get(API.file(file.id), "parley_session=forged")).status).toBe(401);
    // Nor can she fetch the message, or find it by has:file.
    expect(await request(carol, "messages:fetch", { roomId: secret.id })).toMatchObject({ ok: false, error: { code: "NOT_A_MEMBER" } });
    expect((await requestOk(carol, "search:messages", { terms: [], hasFile: true })).hits).toEqual([]);
    expect((await requestOk(bob, "search:messages", { terms: [], hasFile: true })).hits.map((m) => m.id)).toEqual([message.id]);

    // Bob leaves: no longer.
    await requestOk(bob, "room:leave", { roomId: secret.id });
    expect((await get(API.file(file.id), cookies.bob)).status).toBe(404);
    // Deleted: no one, not even the author, and the message shows no files.
    const deleted = await requestOk(alice, "message:delete", { messageId: message.id });
    expect(deleted.attachments).toEqual([]);
    expect((await get(API.file(file.id), cookies.alice)).status).toBe(404);
    expect((await requestOk(alice, "search:messages", { terms: [], hasFile: true })).hits).toEqual([]);
  });
});

async function whoIs(nickname: string) {
  return (await server.storage.findUserByNickname(nickname))!;
}

/**
 * An upload over a raw HTTP request: headers with `contentLength` (null: none, chunked), then the
 * `send` chunks, then nothing more (the server must answer on its own: limit or stall) or, with
 * `cut`, the connection destroyed. Resolves with the answer, or status 0 when there was none.
 */
function rawUpload(o: { contentLength: number | null; send: Buffer[]; uploadId?: string; cut?: boolean; cookie?: string; roomId?: string }): Promise<{
  status: number;
  body: unknown;
  headers?: Record<string, string | string[] | undefined>;
  /** Whether every chunk had been handed to the kernel when the answer arrived. */
  sentAll?: boolean;
}> {
  let sentAll = false;
  const url = new URL(`${server.url}${API.upload(o.roomId ?? DEFAULT_ROOM_ID)}?name=raw.bin`);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string | number> = { cookie: o.cookie ?? cookies.alice, [UPLOAD_ID_HEADER]: o.uploadId ?? randomUUID() };
    if (o.contentLength !== null) headers["content-length"] = o.contentLength;
    const req = httpRequest(url, { method: "POST", headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      const sent = sentAll;
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString() || "null"), headers: res.headers, sentAll: sent }));
      res.on("error", reject);
    });
    req.on("error", (e) => (o.cut ? undefined : reject(e)));
    req.flushHeaders();
    o.send.forEach((chunk, i) => {
      // With `cut`: once the last chunk is handed to the kernel, the connection dies. (An upload cut
      // off never becomes a row, whenever the server notices, so nothing needs waiting for.)
      const last = i === o.send.length - 1;
      req.write(chunk, () => {
        if (last) sentAll = true;
        if (o.cut && last) req.destroy();
      });
    });
    if (o.cut) req.on("close", () => resolve({ status: 0, body: null }));
    if (o.contentLength === null) req.end();
  });
}
