import type { PresenceUpdate } from "@parley/shared";

/**
 * Online means at least one connected socket. Going offline waits `graceMs` after the last socket
 * closed, so a reload (disconnect then connect within a second) shows no "left"/"joined" flicker.
 *
 * Counts live in this process: with several nodes each node reports the users connected to it.
 */
export class PresenceService {
  private readonly sockets = new Map<string, { nickname: string; count: number; offlineTimer: NodeJS.Timeout | null }>();

  constructor(
    private readonly graceMs: number,
    private readonly onChange: (update: PresenceUpdate) => void,
  ) {}

  connected(userId: string, nickname: string): void {
    const entry = this.sockets.get(userId);
    if (entry) {
      entry.count += 1;
      if (entry.offlineTimer) {
        // Back within the grace delay: they never went offline as far as anyone saw.
        clearTimeout(entry.offlineTimer);
        entry.offlineTimer = null;
      }
      return;
    }
    this.sockets.set(userId, { nickname, count: 1, offlineTimer: null });
    this.onChange({ userId, nickname, online: true });
  }

  disconnected(userId: string): void {
    const entry = this.sockets.get(userId);
    if (!entry) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    entry.offlineTimer = setTimeout(() => {
      this.sockets.delete(userId);
      this.onChange({ userId, nickname: entry.nickname, online: false });
    }, this.graceMs);
    entry.offlineTimer.unref();
  }

  isOnline(userId: string): boolean {
    return this.sockets.has(userId);
  }

  onlineUserIds(): string[] {
    return [...this.sockets.keys()];
  }

  close(): void {
    for (const entry of this.sockets.values()) if (entry.offlineTimer) clearTimeout(entry.offlineTimer);
    this.sockets.clear();
  }
}
