import { isFinalUploadError, type AttachResult, type ChatClient, type UploadJob } from "@parley/client";
import { LIMITS, type Attachment } from "@parley/shared";
import { t } from "../../../i18n/index.js";
import { rememberPreview } from "../../../realtime/upload-previews.js";
import { formatBytes, previewable } from "./attachment-layout.js";

/**
 * The glue between the browser's files and the core's uploads: attaching (from the paperclip, a
 * drop or a paste), the previews of images being uploaded, and the words for what was refused.
 */

/**
 * Attaches files to a room's composer. Returns the sentence to show for the files refused (null
 * when every file was taken).
 */
export function attachFiles(client: ChatClient, roomId: string, files: readonly File[], locale: string): string | null {
  if (files.length === 0) return null;
  const result = client.attach(roomId, files);
  for (const { uploadId, file } of result.accepted) {
    // Only types an <img> shows safely and cheaply; an SVG or a HEIC gets the file icon.
    if (file instanceof Blob && previewable(file.type)) rememberPreview(uploadId, file);
  }
  return refusalText(result.refused, client.store.getState().uploadLimits?.fileMaxBytes ?? null, files, locale);
}

/** One sentence per kind of refusal (every too-large file named, the count of those over the limit). */
export function refusalText(refused: AttachResult["refused"], maxBytes: number | null, files: readonly { name: string; size: number }[], locale: string): string | null {
  if (refused.length === 0) return null;
  const sentences: string[] = [];
  const sizeOf = (name: string) => files.find((f) => f.name === name)?.size ?? 0;
  for (const r of refused) {
    if (r.code === "FILE_TOO_LARGE") {
      sentences.push(t("files.refused.FILE_TOO_LARGE", { name: r.name, size: formatBytes(sizeOf(r.name), locale), max: maxBytes === null ? "" : formatBytes(maxBytes, locale) }));
    } else if (r.code === "FILE_EMPTY") {
      sentences.push(t("files.refused.FILE_EMPTY", { name: r.name }));
    }
  }
  const tooMany = refused.filter((r) => r.code === "TOO_MANY_FILES").length;
  if (tooMany > 0) sentences.push(t("files.refused.TOO_MANY_FILES", { count: tooMany, max: LIMITS.attachmentsPerMessage }));
  if (refused.some((r) => r.code === "UPLOADS_UNAVAILABLE")) sentences.push(t("files.refused.UPLOADS_UNAVAILABLE"));
  return sentences.join(" ");
}

/**
 * The label of a failed message's retry button: "Send without the files" when some of its files
 * can no longer be uploaded (they will be dropped), else plain "Retry".
 */
export function retryLabel(uploads: readonly UploadJob[]): string {
  const dropped = uploads.filter((u) => u.status === "failed" && isFinalUploadError(u.error)).length;
  return dropped > 0 ? t("chat.sendWithout", { count: dropped }) : t("chat.retry");
}

/** A message's files in a line of text (notifications, search results of a message with no text). */
export function filesSummary(attachments: readonly Pick<Attachment, "name">[]): string {
  const first = attachments[0];
  if (!first) return "";
  return t("files.summary", { count: attachments.length, name: first.name, rest: attachments.length - 1 });
}
