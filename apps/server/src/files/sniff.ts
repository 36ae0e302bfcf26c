/**
 * What a file is, from its first bytes: the type Parley stores, shows and serves, never the type an
 * uploader claims (ADR 0014). A subset of the WHATWG MIME Sniffing standard's signatures: the
 * formats people share in a chat, and, most importantly, everything a browser could render as a
 * document (HTML, SVG, XML), so that those are known for what they are and served as downloads.
 */

/** How many leading bytes {@link sniff} looks at (the WHATWG algorithm's resource header is 1445). */
export const SNIFF_BYTES = 1445;

/** The raster formats sharp decodes and browsers show inline: only these can become images. */
export const RASTER_IMAGE_TYPES: ReadonlySet<string> = new Set(["image/png", "image/jpeg", "image/gif", "image/webp"]);

const startsWith = (b: Uint8Array, sig: readonly number[], at = 0): boolean => sig.every((v, i) => b[at + i] === v);
const ascii = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));

/** Binary signatures, checked in order. */
const SIGNATURES: readonly { type: string; test: (b: Uint8Array) => boolean }[] = [
  { type: "image/png", test: (b) => startsWith(b, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]) },
  { type: "image/jpeg", test: (b) => startsWith(b, [0xff, 0xd8, 0xff]) },
  { type: "image/gif", test: (b) => startsWith(b, ascii("GIF87a")) || startsWith(b, ascii("GIF89a")) },
  { type: "image/webp", test: (b) => startsWith(b, ascii("RIFF")) && startsWith(b, ascii("WEBPVP"), 8) },
  { type: "image/bmp", test: (b) => startsWith(b, ascii("BM")) && b.length >= 14 },
  { type: "image/x-icon", test: (b) => startsWith(b, [0, 0, 1, 0]) || startsWith(b, [0, 0, 2, 0]) },
  { type: "image/tiff", test: (b) => startsWith(b, [0x49, 0x49, 0x2a, 0x00]) || startsWith(b, [0x4d, 0x4d, 0x00, 0x2a]) },
  { type: "image/avif", test: (b) => startsWith(b, ascii("ftypavif"), 4) || startsWith(b, ascii("ftypavis"), 4) },
  { type: "image/heic", test: (b) => startsWith(b, ascii("ftypheic"), 4) || startsWith(b, ascii("ftypheix"), 4) || startsWith(b, ascii("ftypmif1"), 4) },
  { type: "application/pdf", test: (b) => startsWith(b, ascii("%PDF-")) },
  { type: "application/zip", test: (b) => startsWith(b, [0x50, 0x4b, 0x03, 0x04]) || startsWith(b, [0x50, 0x4b, 0x05, 0x06]) },
  { type: "application/gzip", test: (b) => startsWith(b, [0x1f, 0x8b, 0x08]) },
  { type: "application/x-7z-compressed", test: (b) => startsWith(b, [0x37, 0x7a, 0xbc, 0xaf, 0x27, 0x1c]) },
  { type: "application/vnd.rar", test: (b) => startsWith(b, ascii("Rar!\x1a\x07")) },
  { type: "audio/mpeg", test: (b) => startsWith(b, ascii("ID3")) || (b[0] === 0xff && ((b[1] ?? 0) & 0xe0) === 0xe0 && b.length > 3) },
  { type: "audio/ogg", test: (b) => startsWith(b, ascii("OggS\0")) },
  { type: "audio/wav", test: (b) => startsWith(b, ascii("RIFF")) && startsWith(b, ascii("WAVE"), 8) },
  { type: "audio/flac", test: (b) => startsWith(b, ascii("fLaC")) },
  { type: "video/webm", test: (b) => startsWith(b, [0x1a, 0x45, 0xdf, 0xa3]) },
  { type: "video/quicktime", test: (b) => startsWith(b, ascii("ftypqt"), 4) },
  { type: "video/mp4", test: (b) => startsWith(b, ascii("ftyp"), 4) },
  { type: "application/wasm", test: (b) => startsWith(b, [0x00, 0x61, 0x73, 0x6d]) },
];

/**
 * Openings that make a browser treat text as HTML (the standard's list, case-insensitive, after
 * leading whitespace), each followed by a space or `>`; `<!--` by anything.
 */
const HTML_OPENINGS = ["<!DOCTYPE HTML", "<HTML", "<HEAD", "<SCRIPT", "<IFRAME", "<H1", "<DIV", "<FONT", "<TABLE", "<A", "<STYLE", "<TITLE", "<B", "<BODY", "<BR", "<P"];

/** Bytes no text file holds (the standard's "binary data bytes"). */
const isBinaryByte = (c: number): boolean => c <= 0x08 || c === 0x0b || (c >= 0x0e && c <= 0x1a) || (c >= 0x1c && c <= 0x1f);

/**
 * The type of a file whose first bytes are `head` (at least {@link SNIFF_BYTES} of them, or the
 * whole file when shorter). Unknown binary data is `application/octet-stream`.
 */
export function sniff(head: Uint8Array): string {
  for (const { type, test } of SIGNATURES) if (test(head)) return type;
  let start = 0;
  let utf16 = false;
  if (startsWith(head, [0xef, 0xbb, 0xbf])) start = 3;
  else if (startsWith(head, [0xfe, 0xff]) || startsWith(head, [0xff, 0xfe])) utf16 = true;
  if (utf16) return "text/plain";
  const bytes = head.subarray(start);
  if (bytes.some(isBinaryByte)) return "application/octet-stream";
  return sniffText(new TextDecoder("utf-8", { fatal: false }).decode(bytes));
}

/** Text: HTML, SVG, XML or plain. */
function sniffText(text: string): string {
  const trimmed = text.replace(/^[\t\n\f\r ]+/, "");
  const upper = trimmed.slice(0, 64).toUpperCase();
  if (upper.startsWith("<!--")) {
    // A comment first: what follows it decides (an SVG or HTML file often starts with one).
    const end = trimmed.indexOf("-->");
    return end === -1 ? "text/html" : sniffText(trimmed.slice(end + 3));
  }
  for (const opening of HTML_OPENINGS) {
    if (upper.startsWith(opening) && /^[ >\t\n\f\r]/.test(upper.slice(opening.length, opening.length + 1) || " ")) return "text/html";
  }
  const lower = trimmed.toLowerCase();
  if (lower.startsWith("<svg")) return "image/svg+xml";
  if (lower.startsWith("<?xml") || lower.startsWith("<!doctype")) {
    // An XML prolog (or a doctype) and then an <svg> root somewhere in the head: an SVG document.
    if (/<svg[\s>]/.test(lower)) return "image/svg+xml";
    if (/<html[\s>]|xmlns="http:\/\/www\.w3\.org\/1999\/xhtml"/.test(lower)) return "text/html";
    return "application/xml";
  }
  return "text/plain";
}

/**
 * Which types may be served inline, and so shown by a browser inside Parley: raster images only.
 * Everything else, above all SVG, HTML and XML, which can carry script, is a download.
 */
export const servedInline = (contentType: string): boolean => RASTER_IMAGE_TYPES.has(contentType);
