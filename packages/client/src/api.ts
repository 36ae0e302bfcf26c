import type { AckResult, ClientPayload, Member, Message, RoomListing, RoomSummary, SearchPage } from "@parley/shared";
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
  /** Queue a message: it shows at once as `sending`, is persisted in the outbox, and returns its client id. Blank or over-long bodies are refused with an error code instead. */
  send(
    roomId: string,
    body: string,
    options?: { replyToId?: string },
  ): { ok: true; clientId: string } | { ok: false; code: "MESSAGE_BLANK" | "MESSAGE_TOO_LONG" };
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
  /** Send a `failed` message again. */
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

/** Events the client reports outside the store (notifications, bots, tests). */
export interface ChatClientEvents {
  /** A message arrived live (not from history or catch-up), including the user's own from another tab. */
  message: (message: Message) => void;
}
