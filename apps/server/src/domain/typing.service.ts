import type { TypingUpdate } from "@parley/shared";

/**
 * How typing reaches the other nodes: each node keeps its own copy of who is typing and tells its
 * own sockets; the bus carries starts and stops between nodes (Redis pub/sub, cluster/bus.ts).
 * Best effort: a lost event costs at most one indicator for one TTL, which every node and client
 * expires on its own clock.
 */
export interface TypingBus {
  publish(update: TypingUpdate): void;
  listen(handler: (update: TypingUpdate) => void): void;
}

interface Entry {
  nickname: string;
  /** The socket that started it, or null when it was started on another node. */
  socketId: string | null;
  timer: NodeJS.Timeout;
}

/**
 * Who is typing where. An indicator lives `ttlMs` after the last `start` (clients repeat `start`
 * while typing, and each is told), and ends early on `stop`, on send, or when the socket that
 * started it goes away — on whichever node that happens. Changes are reported through `onChange`;
 * the caller tells this node's sockets.
 */
export class TypingService {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly onChange: (update: TypingUpdate) => void,
    private readonly bus: TypingBus | null = null,
  ) {
    bus?.listen((update) => (update.typing ? this.apply(update, null) : this.end(update.roomId, update.userId)));
  }

  start(roomId: string, userId: string, nickname: string, socketId: string): void {
    const update: TypingUpdate = { roomId, userId, nickname, typing: true };
    this.apply(update, socketId);
    this.bus?.publish(update);
  }

  stop(roomId: string, userId: string): void {
    const nickname = this.end(roomId, userId);
    // Only a stop that ended something is news: a send stops typing, and most sends had none.
    if (nickname !== null) this.bus?.publish({ roomId, userId, nickname, typing: false });
  }

  /** Clears every indicator a disconnected socket of this node started. */
  dropSocket(socketId: string): void {
    for (const [key, entry] of this.entries) {
      if (entry.socketId !== socketId) continue;
      const [roomId, userId] = key.split("\u0000") as [string, string];
      this.stop(roomId, userId);
    }
  }

  close(): void {
    for (const entry of this.entries.values()) clearTimeout(entry.timer);
    this.entries.clear();
  }

  private apply(update: TypingUpdate, socketId: string | null): void {
    const key = `${update.roomId}\u0000${update.userId}`;
    const existing = this.entries.get(key);
    if (existing) clearTimeout(existing.timer);
    // Expiry is local on every node (no event): each node's copy expires on its own clock.
    const timer = setTimeout(() => this.end(update.roomId, update.userId), this.ttlMs);
    timer.unref();
    this.entries.set(key, { nickname: update.nickname, socketId, timer });
    // Every refresh is told, not only the first: clients expire indicators on their own clock, and
    // a tab that connected while someone was already typing learns it from the next refresh.
    // Clients send a refresh at most every 2 s, so this stays cheap.
    this.onChange(update);
  }

  /** Ends an indicator here; returns its nickname, or null if there was none. */
  private end(roomId: string, userId: string): string | null {
    const key = `${roomId}\u0000${userId}`;
    const entry = this.entries.get(key);
    if (!entry) return null;
    clearTimeout(entry.timer);
    this.entries.delete(key);
    this.onChange({ roomId, userId, nickname: entry.nickname, typing: false });
    return entry.nickname;
  }
}
