import type { RoomHead } from "@parley/shared";
import type { Logger } from "../logger.js";
import type { Storage } from "../storage/storage.js";
import { channel, type ParleyServer } from "./types.js";

const ROOM_PREFIX = channel.room("");
/** Rooms per storage read: keeps one statement's parameter list bounded on a node with many rooms. */
const ROOMS_PER_READ = 500;

interface Watched {
  /** The head read last time. */
  last: RoomHead;
  /** The head last told to this node's sockets in the room (null: none yet). */
  told: RoomHead | null;
}

const same = (a: RoomHead | null, b: RoomHead) => a !== null && a.seq === b.seq && a.version === b.version;

/**
 * The tail guard (ADR 0010). With several nodes, a broadcast can miss a node: published while
 * Redis was unreachable, or lost with a connection. Seq gaps reveal a missed message to a client
 * once a later one arrives — but when the missed one is the *last* of a room, nothing later comes.
 *
 * So every `intervalMs` a node reads from the storage the heads (last seq, last version) of the
 * rooms its sockets are in, and when a room's head changed and then held still for one interval,
 * tells that head to its own sockets in the room (`room:head`, local only: it must not depend on
 * the Redis it guards against). A client holding less catches up. Waiting for a still head keeps
 * busy rooms quiet (their live traffic reveals gaps anyway) and avoids racing broadcasts still on
 * their way; a room's first sighting counts as a change, so a node also tells heads once after it
 * starts. Cost: one indexed read per interval for all the node's rooms, and one small packet per
 * member after each burst of activity in a room.
 */
export function watchRoomHeads(io: ParleyServer, storage: Storage, logger: Logger, intervalMs: number): { stop(): void; check(): Promise<void> } {
  const watched = new Map<string, Watched>();
  let failing = false;
  let running: Promise<void> | null = null;

  async function checkOnce(): Promise<void> {
    const roomIds: string[] = [];
    for (const name of io.of("/").adapter.rooms.keys()) if (name.startsWith(ROOM_PREFIX)) roomIds.push(name.slice(ROOM_PREFIX.length));
    const local = new Set(roomIds);
    for (const roomId of watched.keys()) if (!local.has(roomId)) watched.delete(roomId);
    for (let i = 0; i < roomIds.length; i += ROOMS_PER_READ) {
      const heads = await storage.getRoomHeads(roomIds.slice(i, i + ROOMS_PER_READ));
      for (const head of heads) {
        const w = watched.get(head.roomId);
        if (!w) {
          watched.set(head.roomId, { last: head, told: null });
          continue;
        }
        if (same(w.last, head) && !same(w.told, head)) {
          io.local.to(channel.room(head.roomId)).emit("room:head", head);
          w.told = head;
        }
        w.last = head;
      }
    }
  }

  function check(): Promise<void> {
    running ??= checkOnce()
      .then(() => {
        if (failing) logger.info("room heads: storage answers again");
        failing = false;
      })
      .catch((error: unknown) => {
        if (!failing) logger.error("room heads: reading heads failed, retrying", error);
        failing = true;
      })
      .finally(() => {
        running = null;
      });
    return running;
  }

  const timer = setInterval(() => void check(), intervalMs);
  timer.unref();
  return { stop: () => clearInterval(timer), check };
}
