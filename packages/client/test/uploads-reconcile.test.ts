import { describe, expect, it } from "vitest";
import {
  addPendingWithUploads,
  addUpload,
  applySync,
  attachmentIdsOf,
  completeUpload,
  failUpload,
  removePending,
  removeUpload,
  setUploadProgress,
  uploadsState,
} from "../src/reconcile.js";
import { selectComposerUploads, selectUploadsOf } from "../src/selectors.js";
import { createInitialState, type ChatState, type PendingMessage, type UploadJob } from "../src/state.js";
import { ME, attachment, room } from "./fixtures.js";

/** Pure reducers of upload jobs (ADR 0014), table-driven. */

const job = (uploadId: string, over: Partial<UploadJob> = {}): UploadJob => ({
  uploadId,
  roomId: "r1",
  name: `${uploadId}.png`,
  size: 10,
  type: "image/png",
  progress: 0,
  status: "uploading",
  attachment: null,
  error: null,
  attempts: 0,
  clientId: null,
  ...over,
});

const pending = (clientId: string, over: Partial<PendingMessage> = {}): PendingMessage => ({
  clientId,
  roomId: "r1",
  body: "",
  replyToId: null,
  createdAt: 1,
  status: "sending",
  attempts: 0,
  error: null,
  uploadIds: [],
  ...over,
});

const base = (): ChatState => ({ ...createInitialState(), me: ME, rooms: { r1: room() } });

function withJobs(...jobs: UploadJob[]): ChatState {
  return jobs.reduce(addUpload, base());
}

describe("upload progress", () => {
  it.each([
    { from: 0, to: 0.004, stored: 0, why: "less than a step: no write (no render)" },
    { from: 0, to: 0.5, stored: 0.5, why: "a step or more" },
    { from: 0.5, to: 1, stored: 1, why: "the end always" },
    { from: 0.995, to: 1, stored: 1, why: "the end even within a step" },
    { from: 0.2, to: 2, stored: 1, why: "clamped" },
    { from: 0.2, to: Number.NaN, stored: 0, why: "a total of 0 gives NaN: treated as 0" },
  ])("$from → $to stores $stored ($why)", ({ from, to, stored }) => {
    const s = setUploadProgress(withJobs(job("u1", { progress: from })), "u1", to);
    expect(s.uploads.u1?.progress).toBe(stored);
  });

  it.each(["retrying", "done", "failed"] as const)("a late progress event after the attempt ended (%s) changes nothing", (status) => {
    const s = withJobs(job("u1", { status, progress: 0 }));
    expect(setUploadProgress(s, "u1", 0.7)).toBe(s);
  });

  it("an unknown upload (removed meanwhile) changes nothing", () => {
    const s = base();
    expect(setUploadProgress(s, "gone", 0.5)).toBe(s);
  });
});

describe("a message's files", () => {
  it.each([
    { statuses: [], state: "ready" },
    { statuses: ["done", "done"], state: "ready" },
    { statuses: ["done", "uploading"], state: "waiting" },
    { statuses: ["retrying"], state: "waiting" },
    { statuses: ["uploading", "failed"], state: "failed" },
    { statuses: ["done", "missing"], state: "failed" },
  ] as const)("$statuses → $state", ({ statuses, state }) => {
    const ids = statuses.map((_, i) => `u${i}`);
    let s = base();
    statuses.forEach((status, i) => {
      if (status !== "missing") s = addUpload(s, job(`u${i}`, { status, clientId: "c1" }));
    });
    const p = pending("c1", { uploadIds: ids });
    expect(uploadsState(s, p)).toBe(state);
  });

  it("attachment ids go in the order the files were attached, not the order they finished", () => {
    let s = withJobs(job("u1"), job("u2"), job("u3"));
    s = completeUpload(s, "u3", attachment("a3"));
    s = completeUpload(s, "u1", attachment("a1"));
    s = completeUpload(s, "u2", attachment("a2"));
    expect(attachmentIdsOf(s, pending("c1", { uploadIds: ["u1", "u2", "u3"] }))).toEqual(["a1", "a2", "a3"]);
    expect(s.uploads.u2).toMatchObject({ status: "done", progress: 1, error: null });
  });

  it("a new message takes the composer's files: they leave the tray and belong to it", () => {
    let s = withJobs(job("u1"), job("u2"), job("other", { roomId: "r2" }));
    expect(selectComposerUploads(s, "r1").map((u) => u.uploadId)).toEqual(["u1", "u2"]);
    s = addPendingWithUploads(s, pending("c1", { uploadIds: ["u1", "u2"] }));
    expect(selectComposerUploads(s, "r1")).toEqual([]);
    expect(selectComposerUploads(s, "r2").map((u) => u.uploadId)).toEqual(["other"]);
    expect(selectUploadsOf(s, s.pending.c1!).map((u) => u.clientId)).toEqual(["c1", "c1"]);
  });

  it("sent (or discarded), a message drops its jobs, and only its own", () => {
    let s = withJobs(job("u1"), job("u2"), job("composer"));
    s = addPendingWithUploads(s, pending("c1", { uploadIds: ["u1", "u2"] }));
    s = removePending(s, "c1");
    expect(s.uploadOrder).toEqual(["composer"]);
    expect(Object.keys(s.uploads)).toEqual(["composer"]);
  });
});

describe("failing and removing uploads", () => {
  it("a failed upload fails its sending message with the upload's reason", () => {
    let s = withJobs(job("u1"));
    s = addPendingWithUploads(s, pending("c1", { body: "look", uploadIds: ["u1"] }));
    s = failUpload(s, "u1", "FILE_TOO_LARGE");
    expect(s.uploads.u1).toMatchObject({ status: "failed", error: "FILE_TOO_LARGE" });
    expect(s.pending.c1).toMatchObject({ status: "failed", error: "FILE_TOO_LARGE" });
  });

  it("a failed composer upload fails no message", () => {
    const s = failUpload(withJobs(job("u1")), "u1", "UPLOAD_QUOTA_EXCEEDED");
    expect(s.uploads.u1?.status).toBe("failed");
    expect(s.pendingOrder).toEqual([]);
  });

  type Row = {
    name: string;
    body: string;
    jobs: UploadJob[];
    failed?: string;
    remove: string;
    discarded: string | null;
    resumed: string | null;
    left: string[];
  };
  const rows: Row[] = [
    { name: "a composer file", body: "", jobs: [job("u1")], remove: "u1", discarded: null, resumed: null, left: [] },
    { name: "one of two files of a blank message", body: "", jobs: [job("u1", { clientId: "c1" }), job("u2", { clientId: "c1" })], remove: "u1", discarded: null, resumed: null, left: ["u2"] },
    { name: "the only file of a blank message: discarded", body: " ", jobs: [job("u1", { clientId: "c1" })], remove: "u1", discarded: "c1", resumed: null, left: [] },
    { name: "the only file of a message with text: the text still goes", body: "hi", jobs: [job("u1", { clientId: "c1" })], remove: "u1", discarded: null, resumed: null, left: [] },
    {
      name: "the file that failed the message: it goes again",
      body: "hi",
      jobs: [job("u1", { clientId: "c1", status: "failed", error: "FILE_TOO_LARGE" }), job("u2", { clientId: "c1", status: "done" })],
      failed: "FILE_TOO_LARGE",
      remove: "u1",
      discarded: null,
      resumed: "c1",
      left: ["u2"],
    },
    {
      name: "one failed file of two failed: still failed",
      body: "hi",
      jobs: [job("u1", { clientId: "c1", status: "failed", error: "UPLOAD_LOST" }), job("u2", { clientId: "c1", status: "failed", error: "UPLOAD_LOST" })],
      failed: "UPLOAD_LOST",
      remove: "u1",
      discarded: null,
      resumed: null,
      left: ["u2"],
    },
  ];
  it.each(rows)("removing $name", ({ body, jobs, failed, remove, discarded, resumed, left }) => {
    let s = withJobs(...jobs);
    const owned = jobs.filter((j) => j.clientId === "c1").map((j) => j.uploadId);
    if (owned.length > 0) s = addPendingWithUploads(s, pending("c1", { body, uploadIds: owned, ...(failed ? { status: "failed", error: failed } : {}) }));
    const r = removeUpload(s, remove);
    expect(r.discarded).toBe(discarded);
    expect(r.resumed).toBe(resumed);
    expect(r.state.uploadOrder).toEqual(left);
    if (discarded) expect(r.state.pending.c1).toBeUndefined();
    else if (owned.length > 0) {
      expect(r.state.pending.c1?.uploadIds).toEqual(left);
      expect(r.state.pending.c1?.status).toBe(resumed ? "sending" : failed ? "failed" : "sending");
    }
  });
});

describe("sync", () => {
  it("keeps the server's upload limits; a server without them leaves the last ones", () => {
    const limits = { fileMaxBytes: 5, dailyMaxBytes: 50 };
    let s = applySync(base(), { me: ME, rooms: [room()], onlineUserIds: [], uploadLimits: limits, isAdmin: false, mutedUserIds: [], profiles: [] });
    expect(s.uploadLimits).toEqual(limits);
    const old = { me: ME, rooms: [room()], onlineUserIds: [] } as unknown as Parameters<typeof applySync>[1];
    s = applySync(s, old);
    expect(s.uploadLimits).toEqual(limits);
  });
});
