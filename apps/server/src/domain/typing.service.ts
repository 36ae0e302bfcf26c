import type { TypingUpdate } from "@parley/shared";

interface Entry {
  nickname: string;
  socketId: string;
  timer: NodeJS.Timeout;
}

/**
 * Who is typing where. An indicator lives `ttlMs` after the last `start` (clients repeat `start`
 * while typing, and each is broadcast), and ends early on `stop`, on send, or when the socket that started it goes away.
 * Changes are reported through `onChange`; the caller decides whom to tell.
 */
export class TypingService {
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly ttlMs: number,
    private readonly onChange: (update: TypingUpdate) => void,
  ) {}

  start(roomId: string, userId: string, nickname: string, socketId: string): void {
    const key = `${roomId}\u0000${userId}`;
    const existing = this.entries.get(key);
    if (existing) clearTimeout(existing.timer);
    const timer = setTimeout(() => this.stop(roomId, userId), this.ttlMs);
    timer.unref();
    this.entries.set(key, { nickname, socketId, timer });
    // Every refresh is told, not only the first: clients expire indicators on their own clock, and
    // a tab that connected while someone was already typing learns it from the next refresh.
    // Clients send a refresh at most every 2 s, so this stays cheap.
    this.onChange({ roomId, userId, nickname, typing: true });
  }

  stop(roomId: string, userId: string): void {
    const key = `${roomId}\u0000${userId}`;
    const entry = this.entries.get(key);
    if (!entry) return;
    clearTimeout(entry.timer);
    this.entries.delete(key);
    this.onChange({ roomId, userId, nickname: entry.nickname, typing: false });
  }

  /** Clears every indicator a disconnected socket started. */
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
}
