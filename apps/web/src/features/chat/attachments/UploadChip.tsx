import type { UploadJob } from "@parley/client";
import { errorText, useLocale, useT } from "../../../i18n/index.js";
import { usePreview } from "../../../realtime/upload-previews.js";
import { CloseIcon, RetryIcon } from "../../../ui/icons.js";
import { fileCategory, formatBytes } from "./attachment-layout.js";

/**
 * One file being uploaded: a preview (the image itself, from an object URL) or a type tile, its
 * name and size, a progress bar while it uploads, the reason in words if it failed, and an ×
 * that removes it (aborting the upload). Used in the composer's tray and in a pending message.
 */
export function UploadChip({ job, onRemove, onRetry }: { job: UploadJob; onRemove: () => void; onRetry?: (() => void) | undefined }) {
  const t = useT();
  const locale = useLocale();
  const preview = usePreview(job.uploadId);
  const percent = Math.round(job.progress * 100);
  const running = job.status === "uploading" || job.status === "retrying";
  const state =
    job.status === "failed"
      ? t("files.failed", { reason: errorText(job.error) })
      : job.status === "done"
        ? t("files.uploaded")
        : job.status === "retrying"
          ? job.error === null || job.attempts === 0
            ? t("files.waiting")
            : t("files.retrying")
          : t("files.percent", { percent });
  return (
    <li className={`upload-chip ${job.status}`} data-testid="upload-chip" data-status={job.status} data-name={job.name}>
      {preview ? (
        <img className="upload-thumb" src={preview} alt="" />
      ) : (
        <FileTile name={job.name} contentType={job.type} />
      )}
      <div className="upload-text">
        <span className="upload-name" title={job.name}>
          {job.name}
        </span>
        <span className={`upload-state${job.status === "failed" ? " error" : ""}`} role={job.status === "failed" ? "alert" : undefined}>
          {job.status !== "failed" && <span className="upload-size">{formatBytes(job.size, locale)} · </span>}
          {state}
        </span>
        {running && (
          <div
            className="upload-progress"
            role="progressbar"
            aria-label={t("files.progress", { name: job.name })}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={percent}
            data-testid="upload-progress"
          >
            <div className={`upload-progress-bar${job.status === "retrying" ? " paused" : ""}`} style={{ transform: `scaleX(${job.progress})` }} />
          </div>
        )}
      </div>
      {job.status === "failed" && onRetry && (
        <button type="button" className="icon-button small" aria-label={t("files.retry")} title={t("files.retry")} onClick={onRetry}>
          <RetryIcon size={14} />
        </button>
      )}
      <button
        type="button"
        className="icon-button small upload-remove"
        aria-label={running ? t("files.cancel", { name: job.name }) : t("files.remove", { name: job.name })}
        title={running ? t("files.cancel", { name: job.name }) : t("files.remove", { name: job.name })}
        onClick={onRemove}
        data-testid="upload-remove"
      >
        <CloseIcon size={14} />
      </button>
    </li>
  );
}

/** A file's type as a small coloured tile with its extension ("PDF", "ZIP"), as file managers show it. */
export function FileTile({ name, contentType, large = false }: { name: string; contentType: string; large?: boolean }) {
  const { category, label } = fileCategory(name, contentType);
  return (
    <span className={`file-tile${large ? " large" : ""}`} data-category={category} aria-hidden="true">
      <svg viewBox="0 0 32 40" className="file-tile-shape" focusable="false">
        <path d="M4 0h17l11 11v25a4 4 0 0 1-4 4H4a4 4 0 0 1-4-4V4a4 4 0 0 1 4-4z" />
        <path className="file-tile-fold" d="M21 0v7a4 4 0 0 0 4 4h7z" />
      </svg>
      <span className="file-tile-label">{label}</span>
    </span>
  );
}
