import { describe, expect, it } from "vitest";
import { ATTACHMENT_GAP, ATTACHMENTS_MARGIN_TOP, FILE_CARD_HEIGHT, IMAGE_BOX, attachmentsHeight, fileCategory, fitImage, formatBytes, previewable } from "../src/features/chat/attachments/attachment-layout.js";

describe("fitImage", () => {
  it.each([
    { w: 1920, h: 1080, out: { width: 360, height: 203 }, why: "a laptop screenshot: limited by the width" },
    { w: 1170, h: 2532, out: { width: 148, height: 320 }, why: "a phone screenshot: limited by the height" },
    { w: 200, h: 100, out: { width: 200, height: 100 }, why: "small images are never scaled up" },
    { w: 4000, h: 10, out: { width: 360, height: 40 }, why: "a thin banner keeps a clickable height" },
    { w: 1, h: 1, out: { width: 40, height: 40 }, why: "a pixel keeps a clickable size" },
    { w: null, h: null, out: { width: 320, height: 320 }, why: "no size: a square that fits" },
  ])("$w x $h → $out.width x $out.height ($why)", ({ w, h, out }) => {
    expect(fitImage(w, h)).toEqual(out);
  });
});

describe("attachmentsHeight", () => {
  const image = (width: number, height: number) => ({ kind: "image" as const, width, height });
  const file = { kind: "file" as const, width: null, height: null };
  it.each([
    { name: "nothing", list: [], height: 0 },
    { name: "one image", list: [image(1920, 1080)], height: ATTACHMENTS_MARGIN_TOP + 203 },
    { name: "two images side by side (row as tall as the tallest)", list: [image(1920, 1080), image(100, 250)], height: ATTACHMENTS_MARGIN_TOP + 250 },
    { name: "two wide images wrap", list: [image(1920, 1080), image(1920, 1080)], height: ATTACHMENTS_MARGIN_TOP + 203 + ATTACHMENT_GAP + 203 },
    { name: "one file", list: [file], height: ATTACHMENTS_MARGIN_TOP + FILE_CARD_HEIGHT },
    { name: "an image and two files", list: [image(200, 100), file, file], height: ATTACHMENTS_MARGIN_TOP + 100 + 2 * (ATTACHMENT_GAP + FILE_CARD_HEIGHT) },
  ])("$name", ({ list, height }) => {
    expect(attachmentsHeight(list, 660)).toBe(height);
  });
  it("never plans an image taller than the box", () => {
    expect(attachmentsHeight([image(10, 100_000)])).toBe(ATTACHMENTS_MARGIN_TOP + IMAGE_BOX.height);
  });
});

describe("fileCategory", () => {
  it.each([
    { name: "report.pdf", type: "application/pdf", out: { category: "pdf", label: "PDF" } },
    { name: "Q3.XLSX", type: "application/zip", out: { category: "sheet", label: "XLSX" } },
    { name: "page.html", type: "text/html", out: { category: "code", label: "HTML" } },
    { name: "logo.svg", type: "image/svg+xml", out: { category: "code", label: "SVG" } },
    { name: "README", type: "text/plain", out: { category: "text", label: "TEXT" } },
    { name: "blob", type: "application/octet-stream", out: { category: "other", label: "FILE" } },
    { name: "archive.verylongext", type: "application/zip", out: { category: "archive", label: "ARCH" } },
    { name: ".env", type: "text/plain", out: { category: "text", label: "TEXT" } },
  ])("$name ($type)", ({ name, type, out }) => {
    expect(fileCategory(name, type)).toEqual(out);
  });
});

describe("formatBytes", () => {
  it.each([
    { bytes: 0, out: "0 bytes" },
    { bytes: 980, out: "980 bytes" },
    { bytes: 12_345, out: "12 kB" },
    { bytes: 3_400_000, out: "3.4 MB" },
    { bytes: 25_000_000, out: "25 MB" },
  ])("$bytes → $out", ({ bytes, out }) => {
    expect(formatBytes(bytes, "en")).toBe(out);
  });
});

describe("previewable", () => {
  it.each([
    ["image/png", true],
    ["image/JPEG", true],
    ["image/svg+xml", false],
    ["application/pdf", false],
    ["", false],
  ] as const)("%s → %s", (type, out) => {
    expect(previewable(type)).toBe(out);
  });
});
