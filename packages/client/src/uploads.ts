import { API, LIMITS } from "@parley/shared";
import type { AttachResult, FileLike, UploadOutcome, UploadTransport } from "./api.js";
import { backoffDelay, type CoreContext } from "./context.js";
import { addUpload, completeUpload, failUpload, setUploadProgress, updateUpload } from "./reconcile.js";
import { selectComposerUploads } from "./selectors.js";
import type { UploadJob } from "./state.js";
import type { Transport } from "./transport.js";

/**
 * Refusals an upload cannot get past by trying again: the file, the quota, the room or the session
 * says no. Any other 4xx is treated the same way (see `isPermanent`); 408 (the server ended a
 * stalled upload) and 429 (back-pressure) are not refusals of the file.
 */
const PERMANENT_UPLOAD_ERRORS = new Set([
  "FILE_TOO_LARGE",
  "UPLOAD_QUOTA_EXCEEDED",
  "NOT_A_MEMBER",
  "UPLOAD_INVALID",
  "UNAUTHENTICATED",
  "ROOM_NOT_FOUND",
  "FORBIDDEN_ORIGIN",
  "INVALID_PAYLOAD",
]);

/**
 * The code of a file whose upload had not finished when the page was reloaded: its bytes were in
 * the page and are gone, so the message cannot go with it (retry sends it without).
 */
export const UPLOAD_LOST = "UPLOAD_LOST";

/**
 * True when a failed upload cannot succeed by trying again (refused for good, or its bytes are
 * gone): retrying its message sends it without the file.
 */
export const isFinalUploadError = (code: string | null): boolean => code === UPLOAD_LOST || PERMANENT_UPLOAD_ERRORS.has(code ?? "");

const isPermanent = (o: Extract<UploadOutcome, { ok: false }>): boolean =>
  PERMANENT_UPLOAD_ERRORS.has(o.code) || (o.status >= 400 && o.status < 500 && o.status !== 408 && o.status !== 429);

/**
 * Uploads running at once. Why 3: a browser opens at most 6 HTTP/1.1 connections to one origin,
 * and the socket (and its polling fallback), history pages and thumbnails need some; files beyond
 * 3 would only split the same bandwidth and reach 100 % later, all at the same time.
 */
const MAX_CONCURRENT = 3;
/** The wait after RATE_LIMITED without a retryAfterMs (against the protocol). */
const RATE_LIMIT_FALLBACK_MS = 1_000;

/** The bytes of one upload this page still holds, and the attempt running for it. */
interface Held {
  file: FileLike;
  controller: AbortController | null;
  timer: ReturnType<typeof setTimeout> | null;
}

export interface Uploader {
  attach(roomId: string, files: readonly FileLike[]): AttachResult;
  /** Aborts a running attempt and forgets the bytes (the caller updates the store). */
  abort(uploadId: string): void;
  /**
   * Starts a failed upload again if it can succeed: this page holds its bytes and it was not
   * refused for good. Returns whether it restarted.
   */
  retry(uploadId: string): boolean;
  /** After a (re)connect: uploads that broke off while disconnected start again. */
  resume(): void;
  /** Aborts everything (the client was closed). */
  stop(): void;
}

/**
 * The uploads of files (ADR 0014): each file attached gets an upload id (the idempotency key) and
 * starts at once; an attempt that breaks off starts again from the first byte under the same id,
 * after a backoff while connected or at the next connect (attempts while disconnected do not
 * count, as for sends), so a retry after a lost reply gets the attachment stored the first time.
 * Refusals end the upload with their code. The bytes are held in memory only: a reload loses them.
 */
export function createUploader(
  ctx: CoreContext,
  transport: Pick<Transport, "socket">,
  uploads: UploadTransport | undefined,
  options: { baseUrl: string; isOffline(): boolean },
  deps: { onDone(uploadId: string): void; onFailed(uploadId: string): void },
): Uploader {
  const { store, set } = ctx;
  const held = new Map<string, Held>();
  /** Upload ids waiting for a free slot, in the order attached. */
  const queue: string[] = [];
  let running = 0;

  const online = () => transport.socket.connected && !options.isOffline();
  const job = (uploadId: string): UploadJob | undefined => store.getState().uploads[uploadId];

  function enqueue(uploadId: string) {
    if (!queue.includes(uploadId)) queue.push(uploadId);
    pump();
  }

  function pump() {
    while (running < MAX_CONCURRENT && queue.length > 0 && !ctx.closed) {
      const uploadId = queue.shift()!;
      const h = held.get(uploadId);
      const j = job(uploadId);
      if (!h || !j || j.status === "done" || j.status === "failed" || h.controller) continue;
      running++;
      void attempt(uploadId, h).finally(() => {
        running--;
        pump();
      });
    }
  }

  async function attempt(uploadId: string, h: Held): Promise<void> {
    const j = job(uploadId);
    if (!j || !uploads) return;
    if (!online()) {
      // Started while offline: it waits for the connection instead of failing at once.
      set((s) => updateUpload(s, uploadId, { status: "retrying", progress: 0 }));
      return;
    }
    const controller = new AbortController();
    h.controller = controller;
    set((s) => updateUpload(s, uploadId, { status: "uploading", progress: 0 }));
    const url = `${options.baseUrl}${API.upload(j.roomId)}?name=${encodeURIComponent(j.name)}`;
    const outcome = await uploads.upload({
      url,
      uploadId,
      file: h.file,
      signal: controller.signal,
      onProgress: (sent, total) => {
        if (!controller.signal.aborted) set((s) => setUploadProgress(s, uploadId, total > 0 ? sent / total : 0));
      },
    });
    if (h.controller === controller) h.controller = null;
    // Removed by the user, or the client closed: nothing is left to update.
    if (controller.signal.aborted || !job(uploadId) || ctx.closed) return;
    if (outcome.ok) {
      held.delete(uploadId);
      set((s) => completeUpload(s, uploadId, outcome.attachment));
      deps.onDone(uploadId);
      return;
    }
    if (isPermanent(outcome)) {
      set((s) => failUpload(s, uploadId, outcome.code));
      deps.onFailed(uploadId);
      return;
    }
    if (outcome.code === "RATE_LIMITED") {
      // Back-pressure: the same upload is taken later; it says nothing about the file.
      later(uploadId, h, Math.max(1, outcome.retryAfterMs ?? RATE_LIMIT_FALLBACK_MS));
      return;
    }
    if (!online()) {
      // The connection went with it: `resume` restarts it at the next connect.
      set((s) => updateUpload(s, uploadId, { status: "retrying", progress: 0, error: outcome.code }));
      return;
    }
    const attempts = (job(uploadId)?.attempts ?? 0) + 1;
    if (attempts >= ctx.maxAttempts) {
      set((s) => failUpload(updateUpload(s, uploadId, { attempts }), uploadId, outcome.code));
      deps.onFailed(uploadId);
      return;
    }
    set((s) => updateUpload(s, uploadId, { attempts, error: outcome.code }));
    later(uploadId, h, backoffDelay(attempts));
  }

  function later(uploadId: string, h: Held, delay: number) {
    set((s) => updateUpload(s, uploadId, { status: "retrying", progress: 0 }));
    h.timer = setTimeout(() => {
      h.timer = null;
      enqueue(uploadId);
    }, delay);
  }

  return {
    attach(roomId, files) {
      const result: AttachResult = { accepted: [], refused: [] };
      const s = store.getState();
      const maxBytes = s.uploadLimits?.fileMaxBytes ?? Infinity;
      let count = selectComposerUploads(s, roomId).length;
      for (const file of files) {
        if (!uploads) result.refused.push({ name: file.name, code: "UPLOADS_UNAVAILABLE" });
        else if (file.size > maxBytes) result.refused.push({ name: file.name, code: "FILE_TOO_LARGE" });
        // An empty file is most often a folder or a placeholder dragged in by mistake.
        else if (file.size === 0) result.refused.push({ name: file.name, code: "FILE_EMPTY" });
        else if (count >= LIMITS.attachmentsPerMessage) result.refused.push({ name: file.name, code: "TOO_MANY_FILES" });
        else {
          count++;
          const uploadId = ctx.randomId();
          const name = file.name.trim() || "file";
          const newJob: UploadJob = {
            uploadId,
            roomId,
            name,
            size: file.size,
            type: file.type,
            progress: 0,
            status: "uploading",
            attachment: null,
            error: null,
            attempts: 0,
            clientId: null,
          };
          held.set(uploadId, { file, controller: null, timer: null });
          set((st) => addUpload(st, newJob));
          result.accepted.push({ uploadId, file });
        }
      }
      for (const { uploadId } of result.accepted) enqueue(uploadId);
      return result;
    },
    abort(uploadId) {
      const h = held.get(uploadId);
      held.delete(uploadId);
      const at = queue.indexOf(uploadId);
      if (at !== -1) queue.splice(at, 1);
      if (!h) return;
      if (h.timer) clearTimeout(h.timer);
      h.controller?.abort();
    },
    retry(uploadId) {
      const h = held.get(uploadId);
      const j = job(uploadId);
      if (!h || !j || j.status !== "failed" || PERMANENT_UPLOAD_ERRORS.has(j.error ?? "")) return false;
      set((s) => updateUpload(s, uploadId, { status: "uploading", progress: 0, attempts: 0, error: null }));
      enqueue(uploadId);
      return true;
    },
    resume() {
      for (const [uploadId, h] of held) {
        if (job(uploadId)?.status === "retrying" && !h.controller && !h.timer) enqueue(uploadId);
      }
    },
    stop() {
      for (const h of held.values()) {
        if (h.timer) clearTimeout(h.timer);
        h.controller?.abort();
      }
      held.clear();
      queue.length = 0;
    },
  };
}
