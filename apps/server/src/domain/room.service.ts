import {
  DEFAULT_ROOM_ID,
  LIMITS,
  type Member,
  type Message,
  type RoomListing,
  type RoomSummary,
  type SyncData,
  type UploadLimits,
  type User,
} from "@parley/shared";
import { StorageConflictError, type Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";
import { notAMember } from "./message.service.js";
import type { Permissions } from "./permissions.js";

/** Rooms, membership and DMs. Join and leave are recorded in the room's timeline as notices. */
export class RoomService {
  constructor(
    private readonly storage: Storage,
    private readonly isOnline: (userId: string) => boolean,
    /** The server's upload limits, told to every client at sync. */
    private readonly uploadLimits: UploadLimits,
    private readonly permissions: Permissions,
  ) {}

  /** Everything a client needs after (re)connecting (profiles: ProfileService.forSync). Empty DMs show only once they have a message. */
  async sync(user: User, onlineUserIds: string[]): Promise<Omit<SyncData, "profiles">> {
    const rooms = (await this.storage.listRoomSummaries(user.id)).filter((r) => r.kind !== "dm" || r.lastSeq > 0);
    const [isAdmin, mutedUserIds] = await Promise.all([this.permissions.isAdmin(user), this.storage.listMutedIds(user.id)]);
    return { me: user, rooms, onlineUserIds, uploadLimits: this.uploadLimits, isAdmin, mutedUserIds };
  }

  /** Posts the "joined" notice of a new account in the default room. */
  async announceNewUser(user: User): Promise<Message> {
    return this.notice(DEFAULT_ROOM_ID, user.id, "join");
  }

  async create(user: User, name: string): Promise<{ room: RoomSummary; notice: Message }> {
    let roomId: string;
    try {
      roomId = (await this.storage.createRoom({ name, createdBy: user.id })).id;
    } catch (e) {
      if (e instanceof StorageConflictError) throw new DomainError("ROOM_NAME_TAKEN", `A room named “${name}”, or one that looks the same, already exists.`);
      throw e;
    }
    // The creator owns the room (ADR 0016).
    await this.storage.addMember(roomId, user.id, "owner");
    const notice = await this.notice(roomId, user.id, "join");
    return { room: await this.summary(roomId, user.id), notice };
  }

  /**
   * Joins a public room; joining twice is not an error and posts no second notice. Not a room that
   * banned the user, nor an invite-only room they were not invited into (a member already is in).
   */
  async join(user: User, roomId: string): Promise<{ room: RoomSummary; notice: Message | null }> {
    const room = await this.storage.getRoom(roomId);
    if (!room) throw notAMember();
    if (room.kind !== "public") {
      // A DM someone else is in must look exactly like a room that does not exist (one code for
      // non-members); only its own members learn that DMs cannot be joined.
      if (!(await this.storage.isMember(roomId, user.id))) throw notAMember();
      throw new DomainError("NOT_ALLOWED", "Direct conversations cannot be joined.");
    }
    if (!(await this.storage.isMember(roomId, user.id))) {
      if (await this.storage.isBanned(roomId, user.id)) throw new DomainError("BANNED", "You are banned from this room.");
      // Admins may enter any public room to moderate it.
      if (room.inviteOnly && !(await this.permissions.isAdmin(user))) {
        throw new DomainError("INVITE_ONLY", "This room is invite-only: a moderator must invite you.");
      }
    }
    const added = await this.storage.addMember(roomId, user.id);
    const notice = added ? await this.notice(roomId, user.id, "join") : null;
    return { room: await this.summary(roomId, user.id), notice };
  }

  async leave(user: User, roomId: string): Promise<{ notice: Message }> {
    if (roomId === DEFAULT_ROOM_ID) throw new DomainError("CANNOT_LEAVE_DEFAULT", "Everybody stays in the default room.");
    // Membership first: a non-member gets one answer whether the room exists, is public or is a DM.
    if (!(await this.storage.isMember(roomId, user.id))) throw notAMember();
    const room = await this.storage.getRoom(roomId);
    if (!room) throw notAMember();
    if (room.kind !== "public") throw new DomainError("NOT_ALLOWED", "Direct conversations cannot be left.");
    // The notice is written while the user is still a member, so it reaches their other tabs too.
    const notice = await this.notice(roomId, user.id, "leave");
    await this.storage.removeMember(roomId, user.id);
    return { notice };
  }

  async list(user: User, query: string | undefined): Promise<RoomListing[]> {
    return this.storage.listPublicRooms(query?.trim() ?? "", user.id, 100);
  }

  async members(user: User, roomId: string): Promise<Member[]> {
    if (!(await this.storage.isMember(roomId, user.id))) throw notAMember();
    const users = await this.storage.listMembers(roomId);
    return users.map((u) => ({ id: u.id, nickname: u.nickname, online: this.isOnline(u.id), role: u.role }));
  }

  /** Opens the DM with another user: the opener's view and the peer's view of the room. */
  async openDm(user: User, peerId: string): Promise<{ room: RoomSummary; peerRoom: RoomSummary; peer: User }> {
    if (peerId === user.id) throw new DomainError("NOT_ALLOWED", "You cannot start a conversation with yourself.");
    const peer = await this.storage.getUser(peerId);
    if (!peer) throw new DomainError("USER_NOT_FOUND", "That user does not exist.");
    const room = await this.storage.getOrCreateDmRoom(dmRoomId(user.id, peerId), [user.id, peerId]);
    return { room: await this.summary(room.id, user.id), peerRoom: await this.summary(room.id, peerId), peer };
  }

  async searchUsers(query: string): Promise<Member[]> {
    const users = await this.storage.searchUsers(query.trim(), LIMITS.searchMax);
    return users.map((u) => ({ id: u.id, nickname: u.nickname, online: this.isOnline(u.id), role: "member" as const }));
  }

  /** Ids of a room's members (to tell each of them about a change of the room). */
  async memberIds(roomId: string): Promise<string[]> {
    return (await this.storage.listMembers(roomId)).map((m) => m.id);
  }

  /**
   * The room as `user` sees it: their summary when they are a member; for an admin moderating a
   * public room they are not in, the room's shared facts with nothing read and no role.
   */
  async summaryFor(roomId: string, user: User | { id: string; nickname: string }): Promise<RoomSummary> {
    const own = await this.storage.getRoomSummary(roomId, user.id);
    if (own) return own;
    const room = await this.storage.getRoom(roomId);
    if (!room || room.kind !== "public") throw notAMember();
    const memberCount = (await this.storage.listMembers(roomId)).length;
    return {
      id: room.id,
      kind: room.kind,
      name: room.name,
      peerId: null,
      memberCount,
      lastSeq: room.lastSeq,
      lastVersion: room.lastVersion,
      lastReadSeq: 0,
      unreadCount: 0,
      mentionCount: 0,
      lastActivityAt: room.createdAt,
      role: "member",
      topic: room.topic,
      inviteOnly: room.inviteOnly,
      // Not a member: nothing of the room notifies them.
      notifyLevel: "none",
    };
  }

  async summary(roomId: string, userId: string): Promise<RoomSummary> {
    const summary = await this.storage.getRoomSummary(roomId, userId);
    if (!summary) throw notAMember();
    return summary;
  }

  private async notice(roomId: string, userId: string, kind: "join" | "leave"): Promise<Message> {
    const { message } = await this.storage.appendMessage({ roomId, authorId: userId, clientId: null, kind, body: "", mentions: [] });
    return message;
  }
}

/**
 * DM room ids are derived from the two user ids (sorted), so both users, on any node, always find
 * the same room without a lookup, and opening it twice at once cannot create two.
 */
export function dmRoomId(userA: string, userB: string): string {
  const [a, b] = [userA, userB].sort();
  return `dm:${a}:${b}`;
}
