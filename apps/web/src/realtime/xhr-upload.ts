import type { UploadOutcome, UploadTransport } from "@parley/client";
import { UPLOAD_ID_HEADER } from "@parley/shared";

/**
 * How long an upload may go without a sign of life (bytes leaving, or the answer arriving) before
 * this side gives up on the attempt and the core starts it again. Why 45 s: longer than the
 * server's own stall limit (UPLOAD_STALL_MS, 30 s by default), so on a merely slow link the
 * server's 408 decides; this one catches what the server cannot see, a connection that died
 * without a reset (a laptop lid closed, a mobile network switch). XMLHttpRequest's own `timeout`
 * counts from the start, which would cut a big file on a slow line however well it is going.
 */
const STALL_MS = 45_000;

/**
 * Uploads with XMLHttpRequest: the one browser API that reports upload progress. The body is the
 * file itself (the browser streams it from disk and sets Content-Length); the type is sent as
 * `application/octet-stream` whatever the file claims, because the server sniffs the bytes anyway
 * and a claimed `application/json` could be taken by a JSON body parser on the way.
 */
export function createXhrUploadTransport(stallMs = STALL_MS): UploadTransport {
  return {
    upload({ url, uploadId, file, onProgress, signal }) {
      return new Promise<UploadOutcome>((resolve) => {
        if (!(file instanceof Blob)) {
          resolve({ ok: false, status: 400, code: "UPLOAD_INVALID" });
          return;
        }
        if (signal.aborted) {
          resolve({ ok: false, status: 0, code: "ABORTED" });
          return;
        }
        const xhr = new XMLHttpRequest();
        let settled = false;
        let watchdog: ReturnType<typeof setTimeout> | undefined;
        const finish = (outcome: UploadOutcome) => {
          if (settled) return;
          settled = true;
          clearTimeout(watchdog);
          signal.removeEventListener("abort", onAbort);
          resolve(outcome);
        };
        const alive = () => {
          clearTimeout(watchdog);
          watchdog = setTimeout(() => {
            // Settled first: abort() fires the abort event at once, which would say ABORTED.
            finish({ ok: false, status: 0, code: "TIMEOUT" });
            xhr.abort();
          }, stallMs);
        };
        const onAbort = () => {
          xhr.abort();
          finish({ ok: false, status: 0, code: "ABORTED" });
        };
        signal.addEventListener("abort", onAbort);
        xhr.open("POST", url);
        xhr.setRequestHeader(UPLOAD_ID_HEADER, uploadId);
        xhr.setRequestHeader("Content-Type", "application/octet-stream");
        xhr.responseType = "text";
        xhr.upload.onprogress = (e) => {
          alive();
          onProgress(e.loaded, e.lengthComputable ? e.total : file.size);
        };
        // The bytes are out; the server may still be decoding an image and writing a thumbnail.
        xhr.upload.onload = alive;
        xhr.onprogress = alive;
        xhr.onerror = () => finish({ ok: false, status: 0, code: "NETWORK" });
        xhr.onabort = () => finish({ ok: false, status: 0, code: "ABORTED" });
        xhr.onload = () => finish(readOutcome(xhr.status, xhr.responseText, xhr.getResponseHeader("Retry-After")));
        alive();
        xhr.send(file);
      });
    },
  };
}

/**
 * The server's answer as an outcome: `{ attachment }` on 200/201, `{ error: { code, message,
 * retryAfterMs? } }` otherwise. A body that is not ours (a proxy's HTML error page) still gets a
 * code from its status, so the core can tell a refusal from a hiccup.
 */
export function readOutcome(status: number, text: string, retryAfter: string | null): UploadOutcome {
  let body: unknown = null;
  try {
    body = JSON.parse(text);
  } catch {
    // Not JSON: decided by the status below.
  }
  if (status === 200 || status === 201) {
    const attachment = (body as { attachment?: unknown } | null)?.attachment;
    if (attachment && typeof attachment === "object" && typeof (attachment as { id?: unknown }).id === "string") {
      return { ok: true, attachment: attachment as Extract<UploadOutcome, { ok: true }>["attachment"] };
    }
    // A success we cannot read: worth another try (the upload id makes it safe).
    return { ok: false, status: 502, code: "INTERNAL" };
  }
  const error = (body as { error?: { code?: unknown; retryAfterMs?: unknown } } | null)?.error;
  const code = typeof error?.code === "string" ? error.code : codeOfStatus(status);
  const outcome: UploadOutcome = { ok: false, status, code };
  const fromHeader = retryAfter !== null && /^\d+$/.test(retryAfter) ? Number(retryAfter) * 1000 : undefined;
  const retryAfterMs = typeof error?.retryAfterMs === "number" ? error.retryAfterMs : fromHeader;
  if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
  return outcome;
}

function codeOfStatus(status: number): string {
  if (status === 413) return "FILE_TOO_LARGE";
  if (status === 408) return "UPLOAD_STALLED";
  if (status === 429) return "RATE_LIMITED";
  if (status === 401) return "UNAUTHENTICATED";
  if (status === 403) return "NOT_A_MEMBER";
  if (status >= 400 && status < 500) return "UPLOAD_INVALID";
  return "INTERNAL";
}
