import { describe, expect, it } from "vitest";
import { LIMITS } from "@parley/shared";
import { cleanFileName, formatBytes } from "../../src/domain/file.service.js";
import { sniff, servedInline } from "../../src/files/sniff.js";
import { contentDisposition, parseRange } from "../../src/http/file.routes.js";

const bytes = (...parts: (string | number[])[]) => Buffer.concat(parts.map((p) => (typeof p === "string" ? Buffer.from(p, "latin1") : Buffer.from(p))));

describe("sniff: the type is what the bytes are", () => {
  it.each([
    ["PNG", bytes([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "rest"), "image/png"],
    ["JPEG", bytes([0xff, 0xd8, 0xff, 0xe0], "JFIF"), "image/jpeg"],
    ["GIF", bytes("GIF89a..."), "image/gif"],
    ["WebP", bytes("RIFF\x00\x00\x00\x00WEBPVP8 "), "image/webp"],
    ["WAV is not WebP", bytes("RIFF\x00\x00\x00\x00WAVEfmt "), "audio/wav"],
    ["PDF", bytes("%PDF-1.7\n"), "application/pdf"],
    ["ZIP (docx, xlsx)", bytes([0x50, 0x4b, 0x03, 0x04], "..."), "application/zip"],
    ["MP4", bytes([0, 0, 0, 0x18], "ftypmp42"), "video/mp4"],
    ["HTML", bytes("  <!DOCTYPE html><p>hi"), "text/html"],
    ["HTML after a comment", bytes("<!-- x --><html>"), "text/html"],
    ["HTML by a tag", bytes("\n<script>alert(1)</script>"), "text/html"],
    ["SVG", bytes("<svg xmlns='http://www.w3.org/2000/svg'/>"), "image/svg+xml"],
    ["SVG with a prolog", bytes('<?xml version="1.0"?>\n<!DOCTYPE svg>\n<svg onload="x()">'), "image/svg+xml"],
    ["XHTML", bytes('<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml">'), "text/html"],
    ["XML", bytes('<?xml version="1.0"?><note/>'), "application/xml"],
    ["text", bytes("hello, world\n"), "text/plain"],
    ["UTF-8 text with a BOM", bytes([0xef, 0xbb, 0xbf], "你好"), "text/plain"],
    ["a word starting like a tag is text", bytes("<bold claim"), "text/plain"],
    ["binary", bytes([0x00, 0x01, 0x02, 0x03]), "application/octet-stream"],
    ["empty", bytes(""), "text/plain"],
  ])("%s", (_, head, type) => {
    expect(sniff(head)).toBe(type);
  });

  it("serves only raster images inline", () => {
    for (const t of ["image/png", "image/jpeg", "image/gif", "image/webp"]) expect(servedInline(t)).toBe(true);
    for (const t of ["image/svg+xml", "text/html", "application/xml", "application/pdf", "text/plain", "image/bmp"]) expect(servedInline(t)).toBe(false);
  });
});

describe("cleanFileName", () => {
  it.each([
    ["report.pdf", "report.pdf"],
    ["../../etc/passwd", "passwd"],
    ["C:\\Users\\me\\photo.jpg", "photo.jpg"],
    ["in\u202Everted.exe", "inverted.exe"],
    ["tab\tand\nnewline.txt", "tab and newline.txt"],
    ["  spaced  .txt ", "spaced .txt"],
    ["..", "file"],
    ["", "file"],
    ["\u200B", "file"],
    ["会议记录.docx", "会议记录.docx"],
  ])("%j -> %j", (raw, clean) => {
    expect(cleanFileName(raw)).toBe(clean);
  });

  it("cuts a long name to the limit and keeps its extension", () => {
    const name = cleanFileName(`${"a".repeat(500)}.tar.gz`);
    expect([...name]).toHaveLength(LIMITS.fileNameMax);
    expect(name.endsWith(".gz")).toBe(true);
    const emoji = cleanFileName(`${"😀".repeat(300)}.png`);
    expect([...emoji]).toHaveLength(LIMITS.fileNameMax);
    expect(emoji.endsWith("😀.png")).toBe(true);
  });
});

describe("HTTP helpers", () => {
  it("parseRange: one simple range, anything else ignored", () => {
    expect(parseRange("bytes=0-99")).toEqual({ start: 0, end: 99 });
    expect(parseRange("bytes=100-")).toEqual({ start: 100 });
    for (const h of [undefined, "bytes=-500", "bytes=0-1,5-9", "bytes=9-1", "items=0-1", "bytes=abc"]) expect(parseRange(h)).toBeUndefined();
  });

  it("contentDisposition: an ASCII fallback and the UTF-8 name", () => {
    expect(contentDisposition("attachment", 'a "quoted" name.txt')).toBe(`attachment; filename="a _quoted_ name.txt"; filename*=UTF-8''a%20%22quoted%22%20name.txt`);
    expect(contentDisposition("inline", "图.png")).toBe(`inline; filename="_.png"; filename*=UTF-8''%E5%9B%BE.png`);
    expect(contentDisposition("inline", "it's (1).png")).toBe(`inline; filename="it's (1).png"; filename*=UTF-8''it%27s%20%281%29.png`);
  });

  it("formatBytes", () => {
    expect([formatBytes(512), formatBytes(2048), formatBytes(25 * 1024 * 1024), formatBytes(1024 ** 3)]).toEqual(["512 bytes", "2 KB", "25 MB", "1 GB"]);
  });
});
