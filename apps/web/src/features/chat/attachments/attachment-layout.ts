import type { Attachment } from "@parley/shared";

/**
 * Sizes of attachments in a message row, computed from what the message says (an image's pixel
 * size) before anything loads: the row never moves when a thumbnail arrives, and the list's row
 * estimate (row-estimate.ts) uses the same numbers. Pure, table-tested (test/attachment-layout.test.ts).
 */

/**
 * The box an inline image fits in (CSS px). Why 360 x 320: a phone screenshot (9:19.5) is then
 * 148 px wide, a laptop one 360 x 225; both read at a glance without a single image taking a
 * whole screen of conversation. Thumbnails are at most 480 px a side (ADR 0014), enough for this
 * box at 1.33x; the lightbox shows the full image.
 */
export const IMAGE_BOX = { width: 360, height: 320 } as const;
/** Smallest side an image is drawn at, so a 1x1 pixel or a thin banner can still be clicked. */
const MIN_SIDE = 40;
/** Gap between attachments, and the space above the first (px, app.css `.attachments`). */
export const ATTACHMENT_GAP = 8;
export const ATTACHMENTS_MARGIN_TOP = 6;
/** A file card's height (px, app.css `.file-card`). */
export const FILE_CARD_HEIGHT = 58;
/**
 * The width of a message's content column at the laptop width the row estimates are made for
 * (1280 px: the chat column between the sidebar and the members panel, less the row's gutter).
 */
const CONTENT_WIDTH = 660;

/** An image's drawn size: scaled down to fit IMAGE_BOX, never up; unknown sizes get a square. */
export function fitImage(width: number | null, height: number | null, box: { width: number; height: number } = IMAGE_BOX): { width: number; height: number } {
  if (!width || !height || width <= 0 || height <= 0) return { width: Math.min(box.width, box.height), height: Math.min(box.width, box.height) };
  const scale = Math.min(1, box.width / width, box.height / height);
  return {
    width: Math.max(MIN_SIDE, Math.round(width * scale)),
    height: Math.max(MIN_SIDE, Math.round(height * scale)),
  };
}

/**
 * The height the attachments add to a row at the estimate width: images wrap in rows like the
 * flex layout does (each row as tall as its tallest image), file cards stack one per line.
 */
export function attachmentsHeight(attachments: readonly Pick<Attachment, "kind" | "width" | "height">[], contentWidth = CONTENT_WIDTH): number {
  if (attachments.length === 0) return 0;
  let height = ATTACHMENTS_MARGIN_TOP;
  let rows = 0;
  let rowWidth = 0;
  let rowHeight = 0;
  let files = 0;
  for (const a of attachments) {
    if (a.kind !== "image") {
      files++;
      continue;
    }
    const size = fitImage(a.width, a.height);
    if (rowWidth > 0 && rowWidth + ATTACHMENT_GAP + size.width > contentWidth) {
      height += rowHeight + (rows > 0 ? ATTACHMENT_GAP : 0);
      rows++;
      rowWidth = 0;
      rowHeight = 0;
    }
    rowWidth += (rowWidth > 0 ? ATTACHMENT_GAP : 0) + size.width;
    rowHeight = Math.max(rowHeight, size.height);
  }
  if (rowWidth > 0) {
    height += rowHeight + (rows > 0 ? ATTACHMENT_GAP : 0);
    rows++;
  }
  if (files > 0) height += files * FILE_CARD_HEIGHT + (files - 1 + (rows > 0 ? 1 : 0)) * ATTACHMENT_GAP;
  return height;
}

/** What a file card shows as its type: a short label and a colour family. */
export type FileCategory = "pdf" | "doc" | "sheet" | "slides" | "archive" | "code" | "audio" | "video" | "image" | "text" | "other";

const BY_EXTENSION: Record<string, FileCategory> = {
  pdf: "pdf",
  doc: "doc",
  docx: "doc",
  odt: "doc",
  rtf: "doc",
  pages: "doc",
  xls: "sheet",
  xlsx: "sheet",
  ods: "sheet",
  csv: "sheet",
  numbers: "sheet",
  ppt: "slides",
  pptx: "slides",
  odp: "slides",
  key: "slides",
  zip: "archive",
  gz: "archive",
  tgz: "archive",
  tar: "archive",
  "7z": "archive",
  rar: "archive",
  bz2: "archive",
  xz: "archive",
  js: "code",
  ts: "code",
  tsx: "code",
  jsx: "code",
  json: "code",
  html: "code",
  htm: "code",
  css: "code",
  xml: "code",
  svg: "code",
  py: "code",
  rb: "code",
  go: "code",
  rs: "code",
  java: "code",
  c: "code",
  h: "code",
  cpp: "code",
  sh: "code",
  sql: "code",
  yml: "code",
  yaml: "code",
  toml: "code",
  mp3: "audio",
  wav: "audio",
  ogg: "audio",
  flac: "audio",
  m4a: "audio",
  mp4: "video",
  mov: "video",
  webm: "video",
  mkv: "video",
  avi: "video",
  png: "image",
  jpg: "image",
  jpeg: "image",
  gif: "image",
  webp: "image",
  heic: "image",
  avif: "image",
  txt: "text",
  md: "text",
  log: "text",
};

/**
 * A file's category and label (its extension, upper case, at most 4 characters; else a word from
 * its type). The name comes from the uploader and the type from the server's sniffing; both are
 * only shown, never used to decide how the file is served.
 */
export function fileCategory(name: string, contentType: string): { category: FileCategory; label: string } {
  const dot = name.lastIndexOf(".");
  const ext = dot > 0 && dot < name.length - 1 ? name.slice(dot + 1).toLowerCase() : "";
  const byExt = BY_EXTENSION[ext];
  const type = contentType.toLowerCase();
  const byType: FileCategory =
    type === "application/pdf"
      ? "pdf"
      : type.startsWith("image/")
        ? "image"
        : type.startsWith("audio/")
          ? "audio"
          : type.startsWith("video/")
            ? "video"
            : type.startsWith("text/")
              ? "text"
              : type.includes("zip") || type.includes("compressed")
                ? "archive"
                : "other";
  const category = byExt ?? byType;
  const label = ext && /^[a-z0-9]{1,4}$/.test(ext) ? ext.toUpperCase() : category === "other" ? "FILE" : category.toUpperCase().slice(0, 4);
  return { category, label };
}

const byteFormats = new Map<string, Intl.NumberFormat>();

/** A size in the reader's language: "980 bytes", "12 kB", "3.4 MB" (1 kB = 1000 bytes, as in OS file managers). */
export function formatBytes(bytes: number, locale: string): string {
  const units = [
    ["byte", 1],
    ["kilobyte", 1e3],
    ["megabyte", 1e6],
    ["gigabyte", 1e9],
  ] as const;
  let unit: (typeof units)[number] = units[0];
  for (const u of units) if (bytes >= u[1]) unit = u;
  const value = bytes / unit[1];
  const key = `${locale}|${unit[0]}|${value < 10 && unit[0] !== "byte" ? 1 : 0}`;
  let f = byteFormats.get(key);
  if (!f) {
    f = new Intl.NumberFormat(locale, { style: "unit", unit: unit[0], unitDisplay: unit[0] === "byte" ? "long" : "short", maximumFractionDigits: value < 10 && unit[0] !== "byte" ? 1 : 0 });
    byteFormats.set(key, f);
  }
  return f.format(value);
}

/** Image types the browser shows in an <img> from the file itself (the composer's preview). */
export function previewable(type: string): boolean {
  return /^image\/(png|jpeg|gif|webp|avif|bmp)$/i.test(type);
}
