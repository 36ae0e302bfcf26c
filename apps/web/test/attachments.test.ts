import type { UploadJob } from "@parley/client";
import type { Attachment, Message } from "@parley/shared";
import { describe, expect, it } from "vitest";
import { filesSummary, refusalText, retryLabel } from "../src/features/chat/attachments/attach.js";
import { ATTACHMENTS_MARGIN_TOP } from "../src/features/chat/attachments/attachment-layout.js";
import { estimateItem } from "../src/features/chat/row-estimate.js";
import type { TimelineItem } from "../src/store/selectors.js";

const attachment = (id: string, over: Partial<Attachment> = {}): Attachment => ({
  id,
  name: `${id}.png`,
  size: 1000,
  contentType: "image/png",
  kind: "image",
  width: 1920,
  height: 1080,
  ...over,
});

function message(over: Partial<Message>): Message {
  return {
    id: "m1",
    roomId: "r1",
    seq: 1,
    kind: "text",
    authorId: "a",
    authorNickname: "Ana",
    clientId: null,
    body: "hello",
    createdAt: 0,
    mentions: [],
    version: 1,
    editedAt: null,
    deletedAt: null,
    removedByModerator: false,
    reactions: [],
    replyTo: null,
    attachments: [],
    ...over,
  };
}
const row = (m: Message): TimelineItem => ({ type: "message", key: m.id, message: m, grouped: false, mentionsMe: false });

describe("row estimate with files", () => {
  it("adds the fitted image height (the same numbers the row renders with)", () => {
    const plain = estimateItem(row(message({})));
    expect(estimateItem(row(message({ id: "m2", attachments: [attachment("a1")] })))).toBe(plain + ATTACHMENTS_MARGIN_TOP + 203);
  });
  it("a message of files only has no text line", () => {
    const withText = estimateItem(row(message({ id: "m3", attachments: [attachment("a1")] })));
    expect(estimateItem(row(message({ id: "m4", body: "", attachments: [attachment("a1")] })))).toBe(withText - 22);
  });
  it("a deleted message's files (none by the protocol) add nothing", () => {
    expect(estimateItem(row(message({ id: "m5", deletedAt: 5, attachments: [attachment("a1")] })))).toBe(estimateItem(row(message({ id: "m6", deletedAt: 5 }))));
  });
  it("a pending message counts its upload chips", () => {
    const pending = (uploadIds: string[], body = "hi"): TimelineItem => ({
      type: "pending",
      key: "p",
      grouped: false,
      pending: { clientId: "c", roomId: "r1", body, replyToId: null, createdAt: 0, status: "sending", attempts: 0, error: null, uploadIds },
    });
    const none = estimateItem(pending([]));
    expect(estimateItem(pending(["u1"]))).toBeGreaterThan(none);
    expect(estimateItem(pending(["u1", "u2", "u3"]))).toBeGreaterThan(estimateItem(pending(["u1", "u2"])));
    expect(estimateItem(pending(["u1"], ""))).toBeLessThan(estimateItem(pending(["u1"])));
  });
});

describe("refusalText", () => {
  const files = [
    { name: "movie.mov", size: 80_000_000 },
    { name: "empty.txt", size: 0 },
  ];
  it.each([
    { refused: [], text: null },
    { refused: [{ name: "movie.mov", code: "FILE_TOO_LARGE" as const }], text: "“movie.mov” is too large (80 MB): files can be at most 25 MB." },
    { refused: [{ name: "empty.txt", code: "FILE_EMPTY" as const }], text: "“empty.txt” is empty." },
    {
      refused: [
        { name: "x", code: "TOO_MANY_FILES" as const },
        { name: "y", code: "TOO_MANY_FILES" as const },
      ],
      text: "A message can carry 10 files at most: 2 files were not added.",
    },
    { refused: [{ name: "x", code: "TOO_MANY_FILES" as const }], text: "A message can carry 10 files at most: 1 file was not added." },
  ])("$refused.length refused → $text", ({ refused, text }) => {
    expect(refusalText(refused, 25_000_000, files, "en")).toBe(text);
  });
});

describe("retryLabel and filesSummary", () => {
  const job = (status: UploadJob["status"], error: string | null = null): UploadJob => ({
    uploadId: "u",
    roomId: "r1",
    name: "a.png",
    size: 1,
    type: "image/png",
    progress: 0,
    status,
    attachment: null,
    error,
    attempts: 0,
    clientId: "c",
  });
  it.each([
    { jobs: [], label: "Retry" },
    { jobs: [job("done")], label: "Retry" },
    { jobs: [job("failed", "TIMEOUT")], label: "Retry" },
    { jobs: [job("failed", "UPLOAD_LOST")], label: "Send without the file" },
    { jobs: [job("failed", "FILE_TOO_LARGE"), job("failed", "UPLOAD_LOST")], label: "Send without the files" },
  ])("$label", ({ jobs, label }) => {
    expect(retryLabel(jobs)).toBe(label);
  });
  it("names the first file and counts the rest", () => {
    expect(filesSummary([])).toBe("");
    expect(filesSummary([{ name: "a.pdf" }])).toBe("📎 a.pdf");
    expect(filesSummary([{ name: "a.pdf" }, { name: "b.png" }, { name: "c.png" }])).toBe("📎 a.pdf and 2 more");
  });
});
