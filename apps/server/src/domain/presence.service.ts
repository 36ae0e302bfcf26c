import type { PresenceUpdate } from "@parley/shared";

/**
 * Who is online across every node. A node tells it when a user arrives on it (first socket) and
 * leaves it (last socket gone, after the grace delay); it answers for the whole deployment and
 * calls `onChange` when a user's online state flips anywhere.
 *
 * One node: {@link LocalPresenceDirectory} (a map). Several: the Redis directory
 * (cluster/presence-directory.ts), with node heartbeats so a killed node's users go offline.
 */
export interface PresenceDirectory {
  /** This node now has a socket of `userId`. */
  add(userId: string, nickname: string): void;
  /** This node has no socket of `userId` any more (the grace delay has passed). */
  remove(userId: string): void;
  isOnline(userId: string): boolean;
  onlineUserIds(): string[];
  /** Where flips are reported; set once by the service. */
  listen(onChange: (update: PresenceUpdate) => void): void;
  close(): void;
}

/** The directory of a single node: its own users are everyone's. */
export class LocalPresenceDirectory implements PresenceDirectory {
  private readonly users = new Map<string, string>();
  private onChange: (update: PresenceUpdate) => void = () => {};

  listen(onChange: (update: PresenceUpdate) => void): void {
    this.onChange = onChange;
  }
  add(userId: string, nickname: string): void {
    if (this.users.has(userId)) return;
    this.users.set(userId, nickname);
    this.onChange({ userId, nickname, online: true });
  }
  remove(userId: string): void {
    const nickname = this.users.get(userId);
    if (nickname === undefined) return;
    this.users.delete(userId);
    this.onChange({ userId, nickname, online: false });
  }
  isOnline(userId: string): boolean {
    return this.users.has(userId);
  }
  onlineUserIds(): string[] {
    return [...this.users.keys()];
  }
  close(): void {
    this.users.clear();
  }
}

/**
 * Online means at least one connected socket, on any node. Going offline waits `graceMs` after the
 * node's last socket of the user closed, so a reload (disconnect then connect within a second)
 * shows no "left"/"joined" flicker. This service counts this node's sockets; the directory knows
 * the other nodes.
 */
export class PresenceService {
  private readonly sockets = new Map<string, { nickname: string; count: number; offlineTimer: NodeJS.Timeout | null }>();
  private readonly directory: PresenceDirectory;
  /** A directory given by the caller (the cluster's) is closed by the caller: it outlives the app on shutdown. */
  private readonly ownsDirectory: boolean;

  constructor(
    private readonly graceMs: number,
    onChange: (update: PresenceUpdate) => void,
    directory?: PresenceDirectory,
    /**
     * This node's last socket of a user went away (the grace delay passed); `at` is when it
     * disconnected. Last seen is written from here (issue 14): with several nodes the user may still
     * be online on another, and then last seen is simply not shown.
     */
    private readonly onLastSocketGone: (userId: string, at: number) => void = () => {},
  ) {
    this.directory = directory ?? new LocalPresenceDirectory();
    this.ownsDirectory = directory === undefined;
    this.directory.listen(onChange);
  }

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
    this.directory.add(userId, nickname);
  }

  disconnected(userId: string): void {
    const entry = this.sockets.get(userId);
    if (!entry || entry.count === 0) return;
    entry.count -= 1;
    if (entry.count > 0) return;
    const at = Date.now();
    entry.offlineTimer = setTimeout(() => {
      this.sockets.delete(userId);
      this.directory.remove(userId);
      this.onLastSocketGone(userId, at);
    }, this.graceMs);
    entry.offlineTimer.unref();
  }

  isOnline(userId: string): boolean {
    return this.directory.isOnline(userId);
  }

  onlineUserIds(): string[] {
    return this.directory.onlineUserIds();
  }

  close(): void {
    for (const entry of this.sockets.values()) if (entry.offlineTimer) clearTimeout(entry.offlineTimer);
    this.sockets.clear();
    if (this.ownsDirectory) this.directory.close();
  }
}
