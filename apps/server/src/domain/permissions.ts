import type { RoomRole, UserRef } from "@parley/shared";
import { nameKey } from "../storage/keys.js";
import type { RoomRecord, Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";
import { notAMember } from "./message.service.js";

/**
 * Who may moderate whom (ADR 0016). Ranks: admin 3 (in public rooms), owner 2, moderator 1,
 * member 0, not a member -1. Moderating needs rank >= 1; appointing needs rank >= 2; an action on
 * another user needs a rank above theirs (so a moderator cannot kick an owner, nor two admins each
 * other), and nobody acts on themselves. Read from the storage on every packet: a role taken away
 * in one tab, or on another node, counts at the next packet.
 */
export const RANK = { admin: 3, owner: 2, moderator: 1, member: 0, none: -1 } as const;

export interface Standing {
  role: RoomRole | null;
  admin: boolean;
  rank: number;
}

export class Permissions {
  private readonly adminKeys: ReadonlySet<string>;
  /** The first account never changes once it exists, so it is read once. */
  private firstUser: string | null = null;

  constructor(
    private readonly storage: Storage,
    /** `ADMIN_NICKNAMES`: compared by name key (case and look-alikes folded, like sign-in). */
    adminNicknames: readonly string[],
  ) {
    this.adminKeys = new Set(adminNicknames.map((n) => nameKey(n)));
  }

  /** The first account, or one listed in ADMIN_NICKNAMES. */
  async isAdmin(user: UserRef): Promise<boolean> {
    if (this.adminKeys.has(nameKey(user.nickname))) return true;
    this.firstUser ??= await this.storage.firstUserId();
    return this.firstUser === user.id;
  }

  /** `user`'s standing in `room`: their role, and whether they are an admin (counted in public rooms only). */
  async standing(room: RoomRecord, user: UserRef): Promise<Standing> {
    const role = await this.storage.getRole(room.id, user.id);
    const admin = room.kind === "public" && (await this.isAdmin(user));
    const rank = admin ? RANK.admin : role === null ? RANK.none : RANK[role];
    return { role, admin, rank };
  }

  /**
   * The room, if `actor` may moderate it: a public room where they are an owner, moderator or an
   * admin. A stranger to the room gets the same answer as for a room that does not exist.
   */
  async requireModerator(roomId: string, actor: UserRef, need: number = RANK.moderator): Promise<{ room: RoomRecord; standing: Standing }> {
    const room = await this.storage.getRoom(roomId);
    if (!room) throw notAMember();
    const standing = await this.standing(room, actor);
    if (standing.rank === RANK.none) throw notAMember();
    if (room.kind !== "public") throw new DomainError("NOT_ALLOWED", "Direct conversations have no moderators.");
    if (standing.rank < need) {
      throw new DomainError("FORBIDDEN", need >= RANK.owner ? "Only the room's owner can do that." : "Only the room's moderators can do that.");
    }
    return { room, standing };
  }

  /** Refuses unless `actor` (of `actorStanding`) outranks `target` in `room`. */
  async requireOutranks(room: RoomRecord, actor: UserRef, actorStanding: Standing, target: UserRef): Promise<Standing> {
    if (target.id === actor.id) throw new DomainError("FORBIDDEN", "You cannot do that to yourself.");
    const targetStanding = await this.standing(room, target);
    if (targetStanding.rank >= actorStanding.rank) throw new DomainError("FORBIDDEN", "You cannot do that to someone of your rank or above.");
    return targetStanding;
  }
}
