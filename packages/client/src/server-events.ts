import { fromWireMessage, LIMITS, type Message, type ServerToClientEvents } from "@parley/shared";
import type { OutboxStorage } from "./api.js";
import type { CoreContext } from "./context.js";
import { applyMutes, applyReport, applyRoomRemoved, noteRosterChange } from "./moderation.js";
import { applyLiveMessage, applyMessageUpdate, applyPresence, applyTyping, behindHead, expireTyping, upsertRoom } from "./reconcile.js";
import type { CoreSocket } from "./transport.js";
import { applyProfiles, markLastSeen } from "./profiles.js";

export type HandledServerEvent =
  | "message:created"
  | "message:updated"
  | "room:upserted"
  | "room:removed"
  | "typing:updated"
  | "presence:updated"
  | "room:head"
  | "mutes:updated"
  | "report:updated"
  | "user:updated";

/**
 * One entry per server event the core applies (in the spirit of Zulip's `server_events_dispatch`):
 * each calls a pure reducer from reconcile.ts, plus the side effects the event asks for (a catch-up
 * when it revealed a gap, the outbox entry it confirms, the typing sweep).
 */
export type ServerEventTable = { [E in HandledServerEvent]: ServerToClientEvents[E] };

export interface ServerEvents {
  readonly table: ServerEventTable;
  /** Cancels the typing sweep (the client was closed). */
  stop(): void;
}

export function createServerEvents(
  ctx: CoreContext,
  deps: {
    outbox: OutboxStorage;
    catchUp(roomId: string): Promise<void>;
    /** Fetches changes missed in a room (a live change's version skipped some). */
    catchUpChanges(roomId: string): Promise<void>;
    /** Reads every room's summary again (last seq, unread counts), without the catching-up state. */
    refreshRooms(): Promise<void>;
    keepFrom(roomId: string): number | null;
    /** Fetches the open reports of the rooms I moderate (my role in a room went up). */
    refreshReports(): Promise<void>;
    /** Tells the client's `message` listeners. */
    onMessage(message: Message): void;
  },
): ServerEvents {
  const { store, set, now, randomId, windowSize } = ctx;

  let typingSweep: ReturnType<typeof setTimeout> | null = null;
  function scheduleTypingSweep() {
    if (typingSweep) return;
    typingSweep = setTimeout(() => {
      typingSweep = null;
      const t = now();
      let active = false;
      set((s) => {
        const r = expireTyping(s, t);
        active = r.active;
        return r.state;
      });
      if (active) scheduleTypingSweep();
    }, 1_000);
  }

  const table: ServerEventTable = {
    "message:created": (wire) => {
      const message = fromWireMessage(wire);
      let behind = false;
      let changesBehind = false;
      set((s) => {
        const r = applyLiveMessage(s, message, windowSize, deps.keepFrom(message.roomId));
        behind = r.behind;
        changesBehind = r.changesBehind;
        // A join, leave or moderation line: the members panel reads the list again.
        return noteRosterChange(r.state, message);
      });
      if (message.clientId !== null && message.authorId === store.getState().me?.id) deps.outbox.remove(message.clientId);
      if (behind) void deps.catchUp(message.roomId);
      if (changesBehind) void deps.catchUpChanges(message.roomId);
      // Only new messages notify: an edit, delete or reaction never does (ADR 0009).
      deps.onMessage(message);
    },
    "message:updated": (wire) => {
      const message = fromWireMessage(wire);
      let changesBehind = false;
      set((s) => {
        const r = applyMessageUpdate(s, message);
        changesBehind = r.changesBehind;
        return r.state;
      });
      if (changesBehind) void deps.catchUpChanges(message.roomId);
    },
    "room:upserted": (room) => {
      const before = store.getState().rooms[room.id]?.role;
      set((s) => upsertRoom(s, room));
      // Made a moderator (or owner): the room's open reports are mine to see now.
      if (before !== undefined && before === "member" && room.role !== "member") void deps.refreshReports();
    },
    "room:removed": (payload) => set((s) => applyRoomRemoved(s, payload, () => ({ id: randomId(), at: now() }))),
    "mutes:updated": ({ mutedUserIds }) => {
      set((s) => applyMutes(s, mutedUserIds));
      // The unread counts change with a mute (see client.ts `mute`).
      void deps.refreshRooms();
    },
    "report:updated": (report) => set((s) => applyReport(s, report)),
    "typing:updated": (update) => {
      if (update.userId === store.getState().me?.id) return;
      set((s) => applyTyping(s, update, now() + LIMITS.typingLocalTtlMs));
      scheduleTypingSweep();
    },
    "presence:updated": (update) =>
      set((s) => {
        const next = applyPresence(s, update, () => ({ id: randomId(), at: now() }));
        return update.online ? next : markLastSeen(next, update.userId, now());
      }),
    "user:updated": (profile) => set((s) => applyProfiles(s, [profile])),
    "room:head": (head) => {
      const state = store.getState();
      const behind = behindHead(state, head);
      const t = state.timelines[head.roomId];
      // A window at the live end fetches what it missed (and counts it); otherwise only the
      // room's summary is behind, and the server's counts are the ones to show.
      if (behind.messages) void (t?.loaded && t.following ? deps.catchUp(head.roomId) : deps.refreshRooms());
      if (behind.changes) void deps.catchUpChanges(head.roomId);
    },
  };

  return {
    table,
    stop() {
      if (typingSweep) clearTimeout(typingSweep);
      typingSweep = null;
    },
  };
}

/** Subscribes every entry of the table on the socket. */
export function bindServerEvents(socket: CoreSocket, table: ServerEventTable): void {
  // socket.on cannot take a generic event name (its listener type is resolved per name); the
  // table's type pairs each name with its listener instead.
  for (const event of Object.keys(table) as HandledServerEvent[]) socket.on(event, table[event] as never);
}
