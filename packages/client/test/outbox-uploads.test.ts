import { LIMITS, fail, ok, type AckResult, type Message } from "@parley/shared";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { FileLike, OutboxEntry, SendEntry, UploadOutcome, UploadRequest, UploadTransport } from "../src/api.js";
import type { CoreContext } from "../src/context.js";
import { memoryOutbox } from "../src/outbox.js";
import { createOutboxSender, type OutboxSender } from "../src/outbox-sender.js";
import { selectComposerUploads } from "../src/selectors.js";
import { UPLOAD_LOST, createUploader, type Uploader } from "../src/uploads.js";
import { ME, attachment, msg } from "./fixtures.js";
import { contextWith, deferred, fakeTransport, type FakeTransport, type Reply } from "./fake-transport.js";

/**
 * Messages with files (ADR 0014): the files upload first (each under its own upload id, the same
 * on every attempt), the message goes out once all are uploaded, with their attachment ids, and
 * keeps every guarantee of a send: once, in order, retried, persisted.
 */

/** One upload attempt the fake HTTP side holds until the test answers it. */
interface HeldUpload extends UploadRequest {
  answer(outcome: UploadOutcome): void;
}

function fakeUploads(): UploadTransport & { attempts: HeldUpload[]; waitFor(n: number): Promise<HeldUpload> } {
  const attempts: HeldUpload[] = [];
  return {
    attempts,
    upload(request) {
      return new Promise((resolve) => attempts.push({ ...request, answer: resolve }));
    },
    async waitFor(n) {
      await vi.waitFor(() => expect(attempts.length).toBeGreaterThanOrEqual(n));
      return attempts[n - 1]!;
    },
  };
}

/** The server: accepts sends, each the next seq, echoing the attachments it was given. */
function server(): Reply {
  let seq = 0;
  return (event, payload) => {
    if (event !== "message:send") return fail("INTERNAL", `unexpected ${event}`);
    const p = payload as { clientId: string; body: string; attachmentIds?: string[]; roomId: string };
    seq++;
    return ok(msg(seq, { roomId: p.roomId, authorId: ME.id, clientId: p.clientId, body: p.body, attachments: (p.attachmentIds ?? []).map((id) => attachment(id)) }));
  };
}

interface Rig {
  ctx: CoreContext;
  fake: FakeTransport;
  http: ReturnType<typeof fakeUploads>;
  outbox: ReturnType<typeof memoryOutbox>;
  sender: OutboxSender;
  uploader: Uploader;
  /** What `ChatClient.send` does: the room's composer files go with the message. */
  send(body: string, roomId?: string): string;
  sends(): { clientId: string; body: string; attachmentIds?: string[]; roomId: string }[];
}

/** The sender and the uploader wired as `createChatClient` wires them. */
function rig(reply: Reply = server(), entries: OutboxEntry[] = []): Rig {
  const ctx = contextWith([], 0);
  const fake = fakeTransport(reply);
  const http = fakeUploads();
  const outbox = memoryOutbox(entries);
  const sender = createOutboxSender(ctx, fake.transport, outbox, { catchUp: () => Promise.resolve(), catchUpChanges: () => Promise.resolve(), keepFrom: () => null });
  const uploader = createUploader(
    ctx,
    fake.transport,
    http,
    { baseUrl: "", isOffline: () => false },
    { onDone: (id) => sender.uploadsChanged(id), onFailed: (id) => sender.uploadsChanged(id) },
  );
  return {
    ctx,
    fake,
    http,
    outbox,
    sender,
    uploader,
    send(body, roomId = "r1") {
      const files = selectComposerUploads(ctx.store.getState(), roomId).map((u) => u.uploadId);
      const p = sender.add(roomId, body, null, files);
      void sender.flush();
      return p.clientId;
    },
    sends: () => fake.sent.filter((s) => s.event === "message:send").map((s) => s.payload as ReturnType<Rig["sends"]>[number]),
  };
}

const file = (name: string, size = 1_000, type = "image/png"): FileLike => ({ name, size, type });
const sendEntryOf = (r: Rig, clientId: string): SendEntry | undefined => r.outbox.entries().find((e) => e.clientId === clientId) as SendEntry | undefined;

afterEach(() => vi.useRealTimers());

describe("a message with files", () => {
  it("uploads first, shows progress, then sends once with the attachment ids (blank body allowed)", async () => {
    const ack = deferred<AckResult<Message>>();
    const accept = server();
    const r = rig(async (event, payload) => {
      await ack.promise;
      return accept(event, payload);
    });
    const accepted = r.uploader.attach("r1", [file("shot.png"), file("notes.pdf", 2_000, "application/pdf")]).accepted.map((a) => a.uploadId);
    expect(accepted).toHaveLength(2);
    const first = await r.http.waitFor(1);
    expect(first.url).toBe("/api/rooms/r1/files?name=shot.png");
    expect(first.uploadId).toBe(accepted[0]);
    const clientId = r.send("");
    // Nothing goes out while a file is on its way.
    first.onProgress(500, 1_000);
    expect(r.ctx.store.getState().uploads[accepted[0]!]?.progress).toBe(0.5);
    first.answer({ ok: true, attachment: attachment("a1") });
    await vi.waitFor(() => expect(r.ctx.store.getState().uploads[accepted[0]!]?.status).toBe("done"));
    // The attachment id is persisted as soon as it is known: a reload now loses nothing.
    expect(sendEntryOf(r, clientId)?.attachments?.map((a) => a.attachment?.id ?? null)).toEqual(["a1", null]);
    expect(r.sends()).toEqual([]);
    (await r.http.waitFor(2)).answer({ ok: true, attachment: attachment("a2", { kind: "file", contentType: "application/pdf" }) });
    await vi.waitFor(() => expect(r.sends()).toHaveLength(1));
    expect(r.sends()[0]).toMatchObject({ clientId, body: "", attachmentIds: ["a1", "a2"] });
    ack.resolve(ok(msg(1)));
    await vi.waitFor(() => expect(r.ctx.store.getState().pendingOrder).toEqual([]));
    expect(r.outbox.entries()).toEqual([]);
    expect(r.ctx.store.getState().uploadOrder).toEqual([]);
    expect(r.ctx.store.getState().messages.r1?.m1?.attachments.map((a) => a.id)).toEqual(["a1", "a2"]);
  });

  it("sends exactly once after an upload broke off and a send ack was lost: same upload id, same client id", async () => {
    vi.useFakeTimers();
    let lost = 1;
    const accept = server();
    const r = rig((event, payload) => {
      if (event === "message:send" && lost-- > 0) throw new Error("ack lost");
      return accept(event, payload);
    });
    const [uploadId] = r.uploader.attach("r1", [file("shot.png")]).accepted.map((a) => a.uploadId);
    const clientId = r.send("caption");
    (await r.http.waitFor(1)).answer({ ok: false, status: 0, code: "NETWORK" });
    await vi.waitFor(() => expect(r.ctx.store.getState().uploads[uploadId!]).toMatchObject({ status: "retrying", attempts: 1 }));
    await vi.advanceTimersByTimeAsync(500);
    const second = await r.http.waitFor(2);
    expect(second.uploadId).toBe(uploadId);
    // The server stored the first attempt after all: the repeat answers the same attachment.
    second.answer({ ok: true, attachment: attachment("a1") });
    await vi.waitFor(() => expect(r.sends()).toHaveLength(1));
    await vi.advanceTimersByTimeAsync(500);
    await vi.waitFor(() => expect(r.ctx.store.getState().pendingOrder).toEqual([]));
    expect(r.http.attempts).toHaveLength(2);
    expect(r.sends()).toEqual([
      expect.objectContaining({ clientId, attachmentIds: ["a1"] }),
      expect.objectContaining({ clientId, attachmentIds: ["a1"] }),
    ]);
    expect(r.ctx.store.getState().timelines.r1?.ids).toEqual(["m1"]);
  });

  it("an upload cut by a disconnect waits for the connection, counts no attempt, and restarts on connect", async () => {
    const r = rig();
    const [uploadId] = r.uploader.attach("r1", [file("shot.png")]).accepted.map((a) => a.uploadId);
    r.send("");
    const first = await r.http.waitFor(1);
    r.fake.setConnected(false);
    first.answer({ ok: false, status: 0, code: "NETWORK" });
    await vi.waitFor(() => expect(r.ctx.store.getState().uploads[uploadId!]).toMatchObject({ status: "retrying", attempts: 0 }));
    r.fake.setConnected(true);
    r.uploader.resume();
    const second = await r.http.waitFor(2);
    expect(second.uploadId).toBe(uploadId);
    second.answer({ ok: true, attachment: attachment("a1") });
    await vi.waitFor(() => expect(r.sends()).toEqual([expect.objectContaining({ attachmentIds: ["a1"] })]));
  });

  it("RATE_LIMITED on an upload waits retryAfterMs and counts no attempt", async () => {
    vi.useFakeTimers();
    const r = rig();
    const [uploadId] = r.uploader.attach("r1", [file("shot.png")]).accepted.map((a) => a.uploadId);
    (await r.http.waitFor(1)).answer({ ok: false, status: 429, code: "RATE_LIMITED", retryAfterMs: 3_000 });
    await vi.waitFor(() => expect(r.ctx.store.getState().uploads[uploadId!]?.status).toBe("retrying"));
    await vi.advanceTimersByTimeAsync(2_900);
    expect(r.http.attempts).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(200);
    await r.http.waitFor(2);
    expect(r.ctx.store.getState().uploads[uploadId!]?.attempts).toBe(0);
  });

  it("cancel: removing a file aborts its upload; the message goes with the rest; a blank message without files is discarded", async () => {
    const r = rig();
    const [keep, drop] = r.uploader.attach("r1", [file("keep.png"), file("drop.png")]).accepted.map((a) => a.uploadId);
    const clientId = r.send("two files");
    const dropAttempt = await r.http.waitFor(2);
    r.uploader.abort(drop!);
    r.sender.removeUpload(drop!);
    expect(dropAttempt.signal.aborted).toBe(true);
    expect(r.ctx.store.getState().pending[clientId]?.uploadIds).toEqual([keep]);
    expect(sendEntryOf(r, clientId)?.attachments?.map((a) => a.uploadId)).toEqual([keep]);
    (await r.http.waitFor(1)).answer({ ok: true, attachment: attachment("a-keep") });
    // The aborted attempt's late answer changes nothing.
    dropAttempt.answer({ ok: false, status: 0, code: "ABORTED" });
    await vi.waitFor(() => expect(r.sends()).toEqual([expect.objectContaining({ clientId, attachmentIds: ["a-keep"] })]));

    const [only] = r.uploader.attach("r1", [file("only.png")]).accepted.map((a) => a.uploadId);
    const blank = r.send("");
    r.uploader.abort(only!);
    r.sender.removeUpload(only!);
    expect(r.ctx.store.getState().pending[blank]).toBeUndefined();
    expect(sendEntryOf(r, blank)).toBeUndefined();
    expect(r.ctx.store.getState().uploads[only!]).toBeUndefined();
  });

  it("a permanent upload error fails the file and its message; retry sends the text without it", async () => {
    const r = rig();
    const [uploadId] = r.uploader.attach("r1", [file("huge.mov")]).accepted.map((a) => a.uploadId);
    const clientId = r.send("the demo");
    (await r.http.waitFor(1)).answer({ ok: false, status: 413, code: "FILE_TOO_LARGE" });
    await vi.waitFor(() => expect(r.ctx.store.getState().pending[clientId]).toMatchObject({ status: "failed", error: "FILE_TOO_LARGE" }));
    expect(r.ctx.store.getState().uploads[uploadId!]).toMatchObject({ status: "failed", error: "FILE_TOO_LARGE" });
    expect(sendEntryOf(r, clientId)).toMatchObject({ failed: true, error: "FILE_TOO_LARGE" });
    expect(r.sends()).toEqual([]);
    // Not tried again by itself, and the uploader will not restart a refused file.
    expect(r.uploader.retry(uploadId!)).toBe(false);
    r.sender.retry(clientId, (id) => r.uploader.retry(id));
    await vi.waitFor(() => expect(r.sends()).toHaveLength(1));
    expect(r.sends()[0]).toMatchObject({ clientId, body: "the demo" });
    expect(r.sends()[0]?.attachmentIds).toBeUndefined();
  });

  it.each(["NOT_A_MEMBER", "UPLOAD_QUOTA_EXCEEDED", "UPLOAD_INVALID", "UNAUTHENTICATED"])("%s fails the upload at once", async (code) => {
    const r = rig();
    const [uploadId] = r.uploader.attach("r1", [file("a.png")]).accepted.map((a) => a.uploadId);
    (await r.http.waitFor(1)).answer({ ok: false, status: 400, code });
    await vi.waitFor(() => expect(r.ctx.store.getState().uploads[uploadId!]).toMatchObject({ status: "failed", error: code }));
    expect(r.http.attempts).toHaveLength(1);
  });

  it("ATTACHMENT_NOT_FOUND on send is permanent: failed, not retried", async () => {
    const r = rig(() => fail("ATTACHMENT_NOT_FOUND", "gone"));
    r.uploader.attach("r1", [file("a.png")]);
    const clientId = r.send("");
    (await r.http.waitFor(1)).answer({ ok: true, attachment: attachment("a1") });
    await vi.waitFor(() => expect(r.ctx.store.getState().pending[clientId]).toMatchObject({ status: "failed", error: "ATTACHMENT_NOT_FOUND" }));
    expect(r.sends()).toHaveLength(1);
  });

  it("a message waiting for its files holds back later messages of its room, not other rooms", async () => {
    const r = rig();
    r.ctx.set((s) => ({ ...s, rooms: { ...s.rooms, r2: { ...s.rooms.r1!, id: "r2", name: "r2" } } }));
    r.uploader.attach("r1", [file("a.png")]);
    const withFile = r.send("first, with a file");
    const after = r.send("second");
    const elsewhere = r.send("in another room", "r2");
    await vi.waitFor(() => expect(r.sends().map((s) => s.clientId)).toEqual([elsewhere]));
    (await r.http.waitFor(1)).answer({ ok: true, attachment: attachment("a1") });
    await vi.waitFor(() => expect(r.sends().map((s) => s.clientId)).toEqual([elsewhere, withFile, after]));
  });
});

describe("refused before a byte is sent", () => {
  it("files over the server's limit, empty files, and files past the per-message limit", () => {
    const r = rig();
    r.ctx.set((s) => ({ ...s, uploadLimits: { fileMaxBytes: 5_000, dailyMaxBytes: 1e9 } }));
    const many = Array.from({ length: LIMITS.attachmentsPerMessage + 1 }, (_, i) => file(`f${i}.png`));
    const result = r.uploader.attach("r1", [file("big.mov", 5_001), file("empty.txt", 0), ...many]);
    expect(result.accepted).toHaveLength(LIMITS.attachmentsPerMessage);
    expect(result.refused).toEqual([
      { name: "big.mov", code: "FILE_TOO_LARGE" },
      { name: "empty.txt", code: "FILE_EMPTY" },
      { name: `f${LIMITS.attachmentsPerMessage}.png`, code: "TOO_MANY_FILES" },
    ]);
    expect(r.http.attempts.every((a) => a.file.name !== "big.mov")).toBe(true);
    expect(r.uploader.attach("r1", [file("one-more.png")]).refused).toEqual([{ name: "one-more.png", code: "TOO_MANY_FILES" }]);
  });

  it("without an upload transport every file is refused", () => {
    const ctx = contextWith([], 0);
    const fake = fakeTransport(server());
    const uploader = createUploader(ctx, fake.transport, undefined, { baseUrl: "", isOffline: () => false }, { onDone() {}, onFailed() {} });
    expect(uploader.attach("r1", [file("a.png")]).refused).toEqual([{ name: "a.png", code: "UPLOADS_UNAVAILABLE" }]);
  });
});

describe("reload", () => {
  const entry = (clientId: string, body: string, attachments: NonNullable<SendEntry["attachments"]>, order = 0): SendEntry => ({
    clientId,
    roomId: "r1",
    body,
    replyToId: null,
    createdAt: 10,
    order,
    failed: false,
    error: null,
    attachments,
  });
  const persisted = (uploadId: string, done: boolean) => ({ uploadId, name: `${uploadId}.png`, size: 10, type: "image/png", attachment: done ? attachment(`a-${uploadId}`) : null });

  it("a message whose uploads had finished is sent with its attachment ids", async () => {
    const r = rig(server(), [entry("c1", "", [persisted("u1", true), persisted("u2", true)])]);
    r.sender.reload();
    await vi.waitFor(() => expect(r.sends()).toEqual([expect.objectContaining({ clientId: "c1", attachmentIds: ["a-u1", "a-u2"] })]));
    await vi.waitFor(() => expect(r.outbox.entries()).toEqual([]));
    expect(r.http.attempts).toEqual([]);
  });

  it("a message whose upload had not finished shows failed (the bytes are gone); retry sends it without the file, or discards it if nothing is left", async () => {
    const r = rig(server(), [entry("c1", "caption", [persisted("u1", true), persisted("u2", false)], 0), entry("c2", "", [persisted("u3", false)], 1)]);
    r.sender.reload();
    const s = r.ctx.store.getState();
    expect(s.pending.c1).toMatchObject({ status: "failed", error: UPLOAD_LOST });
    expect(s.uploads.u2).toMatchObject({ status: "failed", error: UPLOAD_LOST });
    expect(s.uploads.u1).toMatchObject({ status: "done" });
    expect(s.pending.c2).toMatchObject({ status: "failed", error: UPLOAD_LOST });
    // Only in the store: another tab holding the bytes may still finish it.
    expect(sendEntryOf(r, "c1")?.failed).toBe(false);
    await Promise.resolve();
    expect(r.sends()).toEqual([]);

    r.sender.retry("c1", (id) => r.uploader.retry(id));
    await vi.waitFor(() => expect(r.sends()).toEqual([expect.objectContaining({ clientId: "c1", body: "caption", attachmentIds: ["a-u1"] })]));
    r.sender.retry("c2", (id) => r.uploader.retry(id));
    expect(r.ctx.store.getState().pending.c2).toBeUndefined();
    expect(sendEntryOf(r, "c2")).toBeUndefined();
  });

  it("another tab finishing the upload brings the attachment here: the message goes", async () => {
    const r = rig(server(), [entry("c1", "", [persisted("u1", false)])]);
    r.sender.reload();
    expect(r.ctx.store.getState().pending.c1?.status).toBe("failed");
    r.outbox.put(entry("c1", "", [persisted("u1", true)]));
    r.sender.reload();
    await vi.waitFor(() => expect(r.sends()).toEqual([expect.objectContaining({ clientId: "c1", attachmentIds: ["a-u1"] })]));
  });

  it("this page's own running upload is not taken for lost when the outbox is reloaded", async () => {
    const r = rig();
    const [uploadId] = r.uploader.attach("r1", [file("a.png")]).accepted.map((a) => a.uploadId);
    const clientId = r.send("");
    await r.http.waitFor(1);
    r.sender.reload();
    expect(r.ctx.store.getState().pending[clientId]?.status).toBe("sending");
    expect(r.ctx.store.getState().uploads[uploadId!]?.status).toBe("uploading");
  });
});
