import { API, type Attachment } from "@parley/shared";
import { useEffect, useId, useRef, useState } from "react";
import { useLocale, useT } from "../../../i18n/index.js";
import { CloseIcon, DownloadIcon } from "../../../ui/icons.js";
import { fileCategory, fitImage, formatBytes } from "./attachment-layout.js";
import { FileTile } from "./UploadChip.js";

/**
 * A sent message's files: images inline as thumbnails in boxes sized from their pixel size (so
 * the row has its final height before a byte of them arrives: no layout shift, and the list's row
 * estimate is right), opening full size in a lightbox; other files as cards that download. SVG and
 * HTML are files here as on the server: never rendered, only downloaded.
 */
export function MessageAttachments({ attachments }: { attachments: readonly Attachment[] }) {
  const t = useT();
  const [open, setOpen] = useState<Attachment | null>(null);
  const images = attachments.filter((a) => a.kind === "image");
  const files = attachments.filter((a) => a.kind !== "image");
  return (
    <div className="attachments" role="group" aria-label={t("files.attachments")} data-testid="attachments">
      {images.length > 0 && (
        <div className="attachment-images">
          {images.map((a) => (
            <ImageThumb key={a.id} attachment={a} onOpen={() => setOpen(a)} />
          ))}
        </div>
      )}
      {files.map((a) => (
        <FileCard key={a.id} attachment={a} />
      ))}
      {open && <Lightbox attachment={open} onClose={() => setOpen(null)} />}
    </div>
  );
}

function ImageThumb({ attachment, onOpen }: { attachment: Attachment; onOpen: () => void }) {
  const t = useT();
  const size = fitImage(attachment.width, attachment.height);
  return (
    <button
      type="button"
      className="attachment-image"
      // The width is the fitted one; on a narrow screen max-width shrinks it and the aspect ratio
      // keeps the height in step, still before the image loads.
      style={{ width: size.width, aspectRatio: `${size.width} / ${size.height}` }}
      onClick={onOpen}
      aria-label={t("files.openImage", { name: attachment.name })}
      data-testid="attachment-image"
      data-attachment-id={attachment.id}
    >
      <img src={API.thumbnail(attachment.id)} alt="" width={size.width} height={size.height} loading="lazy" decoding="async" draggable={false} />
    </button>
  );
}

function FileCard({ attachment }: { attachment: Attachment }) {
  const t = useT();
  const locale = useLocale();
  const size = formatBytes(attachment.size, locale);
  const { label } = fileCategory(attachment.name, attachment.contentType);
  return (
    <a
      className="file-card"
      href={API.file(attachment.id)}
      download={attachment.name}
      data-testid="file-card"
      data-attachment-id={attachment.id}
    >
      <FileTile name={attachment.name} contentType={attachment.contentType} large />
      <span className="file-card-text">
        {/* The name is the visible text with a hidden lead-in (WCAG label-in-name). */}
        <span className="file-card-name">
          <span className="visually-hidden">{t("files.download")} </span>
          {attachment.name}
        </span>
        <span className="file-card-meta">
          {size} · {label}
        </span>
      </span>
      <DownloadIcon size={18} className="file-card-download" />
    </a>
  );
}

/**
 * The full image over the page: a native modal <dialog> (the browser traps the focus and closes it
 * on Escape), closed too by a click anywhere but the image and the bar; the focus goes back to the
 * thumbnail that opened it. The thumbnail, already loaded, stands in until the full image arrives.
 */
function Lightbox({ attachment, onClose }: { attachment: Attachment; onClose: () => void }) {
  const t = useT();
  const locale = useLocale();
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  const [loaded, setLoaded] = useState(false);

  useEffect(() => {
    const dialog = ref.current;
    const opener = document.activeElement instanceof HTMLElement ? document.activeElement : null;
    if (dialog && !dialog.open) dialog.showModal();
    dialog?.querySelector<HTMLElement>("[data-autofocus]")?.focus();
    // The dialog is removed rather than closed (see ui/Dialog.tsx), and a removed dialog does not
    // hand the focus back by itself.
    return () => opener?.focus();
  }, []);

  const width = attachment.width ?? undefined;
  const height = attachment.height ?? undefined;
  return (
    <dialog
      ref={ref}
      className="lightbox"
      aria-labelledby={titleId}
      onClose={onClose}
      onClick={(e) => {
        const target = e.target as Element;
        if (!target.closest(".lightbox-bar, .lightbox-image")) onClose();
      }}
      data-testid="lightbox"
    >
      <div className="lightbox-bar">
        <span className="lightbox-title">
          <span id={titleId} className="lightbox-name">
            {attachment.name}
          </span>
          <span className="lightbox-meta">
            {width && height ? `${width} × ${height} · ` : ""}
            {formatBytes(attachment.size, locale)}
          </span>
        </span>
        <a className="button lightbox-download" href={`${API.file(attachment.id)}?download=1`} download={attachment.name} data-testid="lightbox-download">
          <DownloadIcon size={16} />
          {t("files.download")}
        </a>
        <button type="button" className="icon-button lightbox-close" aria-label={t("dialog.close")} onClick={onClose} data-autofocus>
          <CloseIcon />
        </button>
      </div>
      <div className="lightbox-stage">
        <img
          className={`lightbox-image${loaded ? " loaded" : ""}`}
          src={API.file(attachment.id)}
          alt={t("files.image", { name: attachment.name })}
          width={width}
          height={height}
          onLoad={() => setLoaded(true)}
          style={{ backgroundImage: `url("${API.thumbnail(attachment.id)}")` }}
        />
      </div>
    </dialog>
  );
}
