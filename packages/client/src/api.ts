import type { AckResult, Attachment, AuditEntry, Ban, ClientPayload, Member, Message, MessagePage, NotifyLevel, Profile, Report, RoomListing, RoomSummary, SearchPage } from "@parley/shared";
import type { StoreApi } from "zustand/vanilla";
import type { ChangeCommand, ChatState } from "./state.js";

/**
 * The realtime core's public face. The web app, bots, the fault test and benchmarks all run this
 * same code; only the outbox storage and the socket URL differ. UI code reads `store` through
 * selectors and calls these methods; it never touches the socket.
 */
export interface ChatClient {
  /** The vanilla zustand store the socket layer writes into. */
  readonly store: StoreApi<ChatState>;
  /** Open the socket (idempotent). Catch-up of every room runs after each (re)connect. */
  connect(): void;
  /** Close the socket for good (sign-out, tests). Pending sends stay in the outbox. */
  disconnect(): void;
  /**
   * Queue a message: it shows at once as `sending`, is persisted in the outbox, and returns its
   * client id. It takes the files attached in the room's composer (`attach`): the body may then be
   * blank, and the message goes out once they are uploaded. Refused with an error code instead:
   * a blank body without files, an over-long body, or a composer file that failed to upload
   * (`UPLOAD_FAILED`: the user removes or retries it first, so no file goes missing silently).
   */
  send(
    roomId: string,
    body: string,
    options?: { replyToId?: string },
  ): { ok: true; clientId: string } | { ok: false; code: "MESSAGE_BLANK" | "MESSAGE_TOO_LONG" | "UPLOAD_FAILED" };
  /**
   * Attach files to the room's composer: each starts uploading at once (an upload job in
   * `uploads`, with progress). Refused before a byte is sent: a file over the server's
   * `uploadLimits.fileMaxBytes` (FILE_TOO_LARGE), an empty one (FILE_EMPTY), and the files past
   * LIMITS.attachmentsPerMessage (TOO_MANY_FILES); the others are accepted.
   */
  attach(roomId: string, files: readonly FileLike[]): AttachResult;
  /**
   * Remove a file: from the composer, or from a pending message (whose other files and text still
   * go; a message left with neither is discarded). A running upload is aborted.
   */
  cancelUpload(uploadId: string): void;
  /** Start a failed upload again, if its bytes are still held (it failed in this page). */
  retryUpload(uploadId: string): void;
  /**
   * Edit one of my stored messages: the new body shows at once (optimistic) and the edit goes
   * through the outbox like a send (persisted, retried, idempotent). Its base is the version of the
   * copy held now; if another tab changed the body first, the change ends `failed` with
   * `EDIT_CONFLICT` and the message shows the winner (retrying re-bases on it).
   */
  edit(messageId: string, body: string): { ok: true; changeId: string } | { ok: false; code: "MESSAGE_BLANK" | "MESSAGE_TOO_LONG" | "MESSAGE_NOT_FOUND" };
  /** Delete one of my stored messages: shows deleted at once, through the outbox. */
  deleteMessage(messageId: string): { ok: true; changeId: string } | { ok: false; code: "MESSAGE_NOT_FOUND" };
  /** Set or clear my reaction: shows at once, through the outbox (a later toggle replaces an unsent one). */
  react(messageId: string, emoji: string, on: boolean): { ok: true; changeId: string } | { ok: false; code: "MESSAGE_NOT_FOUND" };
  /** Send a failed change again (an edit re-bases on the message as held now). */
  retryChange(changeId: string): void;
  /** Drop a failed (or pending) change; the message shows its stored state again. */
  discardChange(changeId: string): void;
  /**
   * Bring the message with `seq` into the room's window: nothing to do if it is held, otherwise the
   * window is replaced by the history around it (and stops following). Resolves to whether it is
   * held now.
   */
  jumpTo(roomId: string, seq: number): Promise<boolean>;
  /**
   * Send a `failed` message again. Its files that can no longer succeed (refused for good, or
   * their bytes lost in a reload) are dropped from it ("send without them"); those that broke
   * off are uploaded again. A message left with no text and no files is discarded.
   */
  retry(clientId: string): void;
  /** Drop a `failed` (or pending) message from the outbox. */
  discard(clientId: string): void;
  /** Show a room: loads its latest page if the client has none. */
  setActiveRoom(roomId: string | null): void;
  /** Load the page before the window; resolves when it is merged (or there is nothing more). */
  loadOlder(roomId: string): Promise<void>;
  /** Load the page after the window (after it was trimmed while scrolling back). */
  loadNewer(roomId: string): Promise<void>;
  /** Move the window to the room's latest page (after scrolling back trimmed it) and follow again. */
  jumpToLatest(roomId: string): Promise<void>;
  /**
   * The oldest message the reader has on screen in a room while reading back (null: following the
   * end, or the room is not shown). Messages arriving at the newest end then never trim it out of
   * the window: the newest give way instead and the window stops following until the reader
   * comes back down. Kept outside the store: it changes with every scroll and renders nothing.
   */
  keepInView(roomId: string, seq: number | null): void;
  /** Mark a room read up to `seq` (moves forward only; every tab of the user follows). */
  markRead(roomId: string, seq: number): void;
  /** Tell the room the user is typing (throttled) or stopped. */
  setTyping(roomId: string, typing: boolean): void;
  createRoom(name: string): Promise<AckResult<RoomSummary>>;
  joinRoom(roomId: string): Promise<AckResult<RoomSummary>>;
  leaveRoom(roomId: string): Promise<AckResult<{ roomId: string }>>;
  listRooms(query?: string): Promise<AckResult<RoomListing[]>>;
  listMembers(roomId: string): Promise<AckResult<Member[]>>;
  openDm(userId: string): Promise<AckResult<RoomSummary>>;
  searchUsers(query: string): Promise<AckResult<Member[]>>;
  /**
   * Search the messages of my rooms (see `search:messages`; `parseSearch` in @parley/shared turns
   * a search box into terms and filters). Results are not kept in the store: a search is a view.
   */
  searchMessages(query: ClientPayload<"search:messages">): Promise<AckResult<SearchPage>>;
  /**
   * Change my profile (issue 14): display name, status text, availability ("" clears a text). The
   * reply and the `user:updated` that follows put it in the store.
   */
  updateProfile(patch: ClientPayload<"profile:update">): Promise<AckResult<Profile>>;
  /** Fetch the current profiles of some users (a profile card) into the store. */
  fetchProfiles(userIds: readonly string[]): Promise<AckResult<Profile[]>>;
  /** Put a profile the app got elsewhere (the avatar upload's HTTP reply) into the store. */
  applyProfile(profile: Profile): void;
  /** Set my notification level in a room; every tab and device follows (the room summary carries it). */
  setNotifyLevel(roomId: string, level: NotifyLevel): Promise<AckResult<RoomSummary>>;
  /**
   * Read up to `limit` messages of a room after `afterSeq` without touching the store: what this
   * browser missed live while no tab held the connection, for its notifications (ADR 0017).
   */
  readMessagesAfter(roomId: string, afterSeq: number, limit: number): Promise<AckResult<MessagePage>>;

  // ---- moderation (issue 14). The server checks every one against my role; a refusal comes back
  // as FORBIDDEN, BANNED, INVITE_ONLY... in the ack. The results that change what I hold (a room's
  // summary, my mutes, a report) are applied to the store before the promise resolves.

  /** Rename a room, set its topic, or make it invite-only (owners, moderators, admins). */
  updateRoom(roomId: string, patch: { name?: string; topic?: string; inviteOnly?: boolean }): Promise<AckResult<RoomSummary>>;
  /** Make a member a moderator, or a moderator a member again (owners, admins). */
  setRole(roomId: string, userId: string, role: "moderator" | "member"): Promise<AckResult<Member>>;
  /** Remove a member from the room (they may join again unless it is invite-only). */
  kick(roomId: string, userId: string): Promise<AckResult<{ roomId: string; userId: string }>>;
  /** Ban a user: they leave at once, in every tab, and cannot come back until unbanned. */
  ban(roomId: string, userId: string, reason?: string): Promise<AckResult<{ roomId: string; userId: string }>>;
  unban(roomId: string, userId: string): Promise<AckResult<{ roomId: string; userId: string }>>;
  listBans(roomId: string): Promise<AckResult<Ban[]>>;
  /** Add a user to the room (the way into an invite-only room). */
  invite(roomId: string, userId: string): Promise<AckResult<Member>>;
  /** The room's moderation log, newest first. */
  listAudit(roomId: string, limit?: number): Promise<AckResult<AuditEntry[]>>;
  /**
   * Delete a message as a moderator straight away, whether or not it is held (the reports panel
   * shows messages far from the window). Not through the outbox: a moderator acts while looking at
   * the answer; a refusal or a lost ack is shown to them, not retried behind their back.
   */
  removeMessage(messageId: string): Promise<AckResult<Message>>;
  /** Hide (`on`) or show again another user's messages, for me only: shows at once, every tab follows. */
  mute(userId: string, on: boolean): Promise<AckResult<{ mutedUserIds: string[] }>>;
  /** Report a message to the room's moderators. */
  reportMessage(messageId: string, reason?: string): Promise<AckResult<Report>>;
  /** Reports I moderate (a room's, or all of mine), open or resolved; kept in `reports` too. */
  listReports(query: { roomId?: string; resolved?: boolean }): Promise<AckResult<Report[]>>;
  resolveReport(reportId: string): Promise<AckResult<Report>>;
  /** Admins: deactivate (or reactivate) an account. */
  setAccountActive(userId: string, active: boolean): Promise<AckResult<{ userId: string; active: boolean }>>;
  /** The UI showed a removal notice (`removals`) and the user closed it. */
  dismissRemoval(id: string): void;

  /** Subscribe to a client event; returns the unsubscribe function. */
  on<E extends keyof ChatClientEvents>(event: E, listener: ChatClientEvents[E]): () => void;
}

/**
 * Where unacknowledged sends survive a reload or a crash: localStorage in the browser (one key per
 * entry, so two tabs writing at once never overwrite each other's entries), a file or memory in
 * Node. The outbox belongs to one user: create it for the signed-in user's id.
 */
export interface OutboxStorage {
  /** Every stored entry, in any order (the client sorts by `createdAt`, then `order`). */
  load(): OutboxEntry[];
  /** Insert or replace the entry with this client id. */
  put(entry: OutboxEntry): void;
  remove(clientId: string): void;
  /**
   * Optional: call `listener` when another tab changed the outbox. The client then reloads it:
   * entries another tab wrote are shown (and sent: the server de-duplicates by client id), entries
   * another tab confirmed or discarded disappear.
   */
  subscribe?(listener: () => void): () => void;
}

/**
 * One persisted outbox entry: a send (no `kind`, or `kind: "send"`; the shape stored before issue
 * 11) or a change to a stored message. Entries go out one at a time in (createdAt, order) order,
 * so a change never overtakes what the user did before it.
 */
export type OutboxEntry = SendEntry | ChangeEntry;

export interface SendEntry {
  kind?: "send";
  clientId: string;
  roomId: string;
  body: string;
  replyToId?: string | null;
  /**
   * The message's files (entries before issue 13 have none). Rewritten as each upload finishes,
   * so the attachment ids survive a reload; a file without its attachment when the page is
   * reloaded cannot be uploaded again (its bytes were in the page).
   */
  attachments?: PersistedUpload[];
  createdAt: number;
  /** Tie-breaker for entries written in the same millisecond. */
  order: number;
  /** Failed entries stay until the user retries or discards them; the error code is kept. */
  failed: boolean;
  error: string | null;
}

/** An edit, delete or reaction; `clientId` is the change's own id (the outbox key). */
export interface ChangeEntry extends ChangeCommand {
  clientId: string;
  createdAt: number;
  order: number;
  failed: boolean;
  error: string | null;
}

/** What the outbox keeps of one file of a message. */
export interface PersistedUpload {
  uploadId: string;
  name: string;
  size: number;
  type: string;
  /** Set once the upload is done. */
  attachment: Attachment | null;
}

/**
 * A file as the core needs it: in the browser a `File` (a Blob), in Node whatever the injected
 * UploadTransport can send. The core never reads the bytes; it passes the object back to the
 * transport on every attempt.
 */
export interface FileLike {
  readonly name: string;
  readonly size: number;
  /** The MIME type the platform guessed ("" when unknown). */
  readonly type: string;
}

export type AttachResult = {
  /** The files accepted with their upload ids, in order (the UI keeps a preview per id). */
  accepted: { uploadId: string; file: FileLike }[];
  refused: { name: string; code: "FILE_TOO_LARGE" | "FILE_EMPTY" | "TOO_MANY_FILES" | "UPLOADS_UNAVAILABLE" }[];
};

/** One upload attempt, as the core hands it to the transport. */
export interface UploadRequest {
  /** `API.upload(roomId)` with the `name` query parameter, on the server's origin. */
  url: string;
  /** Sent as `X-Upload-Id` (UPLOAD_ID_HEADER): the same for every attempt of one file. */
  uploadId: string;
  file: FileLike;
  /** Bytes sent so far; called as the upload advances. */
  onProgress(sent: number, total: number): void;
  /** Aborted when the user removes the file or the client closes. */
  signal: AbortSignal;
}

/**
 * How an attempt ended. `status` 0: no HTTP answer (network down, aborted, timed out: `code`
 * says which, `NETWORK`, `ABORTED` or `TIMEOUT`). Otherwise the server's status and its error
 * code (RATE_LIMITED with `retryAfterMs`).
 */
export type UploadOutcome =
  | { ok: true; attachment: Attachment }
  | { ok: false; status: number; code: string; retryAfterMs?: number };

/**
 * The HTTP side of uploads, injected: the web app gives an XMLHttpRequest implementation (upload
 * progress, abort, a stall timeout); tests give a fake. It must not throw: every end is an outcome.
 */
export interface UploadTransport {
  upload(request: UploadRequest): Promise<UploadOutcome>;
}

/** Events the client reports outside the store (notifications, bots, tests). */
export interface ChatClientEvents {
  /** A message arrived live (not from history or catch-up), including the user's own from another tab. */
  message: (message: Message) => void;
}
