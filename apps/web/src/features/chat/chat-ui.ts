import { createContext, useContext } from "react";
import { useStore } from "zustand";
import { createStore, type StoreApi } from "zustand/vanilla";

/**
 * What one room view's parts tell each other: a row's "Edit" or "Reply" reaches the composer, a
 * reply's quote asks the list to scroll to the original, and the list marks the row it scrolled
 * to. Local UI state, not chat state: it lives for one room view (ChatView is keyed by room) and
 * never reaches the client core.
 */
export interface ChatUiState {
  /** The message being edited in the composer (mine, text, not deleted). */
  editing: { messageId: string; body: string } | null;
  /** The message the next send replies to. */
  replyingTo: { messageId: string; authorNickname: string; excerpt: string } | null;
  /** A reply's quote was clicked: the list brings `seq` into view (`nonce` repeats a jump). */
  jump: { seq: number; nonce: number } | null;
  /** The message briefly highlighted after a jump. */
  highlightedId: string | null;
  /** Bumped to send focus back to the composer (after picking Reply or Edit). */
  focusComposer: number;
  /** The row whose actions a tap opened (touch screens have no hover). */
  tappedId: string | null;
  /** Bumped when I send a message: the list follows the conversation again to show it. */
  sent: number;
  /** Why files just attached (dropped, pasted, picked) were not taken; shown under the composer. */
  fileNotice: string | null;
}

export interface ChatUiActions {
  startEdit(messageId: string, body: string): void;
  cancelEdit(): void;
  startReply(messageId: string, authorNickname: string, body: string): void;
  cancelReply(): void;
  jumpTo(seq: number): void;
  highlight(messageId: string | null): void;
  noteSent(): void;
  tap(messageId: string | null): void;
  setFileNotice(notice: string | null): void;
}

export type ChatUiStore = StoreApi<ChatUiState & ChatUiActions>;

/** The first line of a body, cut to `max` characters (what a reply quote shows). */
export function excerptOf(body: string, max = 140): string {
  const line = body.trim().split("\n", 1)[0] ?? "";
  return line.length > max ? `${line.slice(0, max - 1)}…` : line;
}

/**
 * A one-line quote without its formatting marks (`**bold**`, `_it_`, `~~x~~`, `` `code` ``, a
 * leading `>`): the quote is too small to render formatting, and the raw marks read as noise.
 * Marks inside words (snake_case, 2*3) stay.
 */
export function plainExcerpt(excerpt: string): string {
  return excerpt
    .replace(/^\s*>\s?/, "")
    .replace(/\*\*|__|~~|`/g, "")
    .replace(/(^|[\s([{"'])[*_]+(?=\S)/g, "$1")
    .replace(/(\S)[*_]+(?=$|[\s)\]}.,!?:;"'])/g, "$1");
}

/**
 * A whole body without its formatting marks, line by line (see `plainExcerpt`): code fences
 * dropped, list markers as bullets. What a light row shows while the list is flung (light-row.ts):
 * about as many lines as the formatted body, so the row keeps roughly its height when it turns full.
 */
export function plainBody(body: string): string {
  return body
    .split("\n")
    .filter((line) => !/^\s*```/.test(line))
    .map((line) => plainExcerpt(line.replace(/^(\s*)(?:[-+*]|\d+[.)])\s/, "$1• ")))
    .join("\n");
}

export function createChatUiStore(): ChatUiStore {
  return createStore<ChatUiState & ChatUiActions>()((set) => ({
    editing: null,
    replyingTo: null,
    jump: null,
    highlightedId: null,
    focusComposer: 0,
    sent: 0,
    tappedId: null,
    fileNotice: null,
    // Editing and replying exclude each other, as in Slack: the composer does one thing at a time.
    startEdit: (messageId, body) => set((s) => ({ editing: { messageId, body }, replyingTo: null, tappedId: null, focusComposer: s.focusComposer + 1 })),
    cancelEdit: () => set({ editing: null }),
    startReply: (messageId, authorNickname, body) =>
      set((s) => ({ replyingTo: { messageId, authorNickname, excerpt: excerptOf(body) }, editing: null, tappedId: null, focusComposer: s.focusComposer + 1 })),
    cancelReply: () => set({ replyingTo: null }),
    jumpTo: (seq) => set((s) => ({ jump: { seq, nonce: (s.jump?.nonce ?? 0) + 1 } })),
    highlight: (highlightedId) => set({ highlightedId }),
    noteSent: () => set((s) => ({ sent: s.sent + 1 })),
    tap: (messageId) => set((s) => ({ tappedId: s.tappedId === messageId ? null : messageId })),
    setFileNotice: (fileNotice) => set({ fileNotice }),
  }));
}

export const ChatUiContext = createContext<ChatUiStore | null>(null);

export function useChatUiStore(): ChatUiStore {
  const store = useContext(ChatUiContext);
  if (!store) throw new Error("useChatUiStore must be used inside <ChatUiContext>");
  return store;
}

/** Reads the room view's UI state; re-renders only when the selected value changes. */
export function useChatUi<T>(selector: (state: ChatUiState & ChatUiActions) => T): T {
  return useStore(useChatUiStore(), selector);
}
