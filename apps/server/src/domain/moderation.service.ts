import {
  DEFAULT_ROOM_ID,
  LIMITS,
  type AuditAction,
  type AuditEntry,
  type Ban,
  type Member,
  type Message,
  type Report,
  type SystemEvent,
  type UserRef,
} from "@parley/shared";
import { StorageConflictError, type ReportRecord, type RoomRecord, type Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";
import { messageNotFound, notAMember } from "./message.service.js";
import { RANK, type Permissions } from "./permissions.js";

/** Reports one request lists at most (newest first). */
const REPORTS_PAGE = 200;

/**
 * Moderation (ADR 0016): room roles, settings, kicks, bans, invites, mutes, reports and account
 * deactivation. Every action is checked against the actor's standing read from the storage now,
 * recorded in the audit table, and (where the room should know) announced as a `system` message.
 * Returns what the socket layer must tell whom; it never touches a socket.
 */
export class ModerationService {
  constructor(
    private readonly storage: Storage,
    readonly permissions: Permissions,
  ) {}

  /** Rename, set the topic, make invite-only: one notice per field that changed. */
  async updateRoom(actor: UserRef, input: { roomId: string; name?: string | undefined; topic?: string | undefined; inviteOnly?: boolean | undefined }): Promise<{ room: RoomRecord; notices: Message[] }> {
    const { room } = await this.permissions.requireModerator(input.roomId, actor);
    if (input.inviteOnly === true && room.id === DEFAULT_ROOM_ID) throw new DomainError("NOT_ALLOWED", "The default room is open to everyone.");
    const patch = {
      ...(input.name !== undefined && input.name !== room.name && { name: input.name }),
      ...(input.topic !== undefined && input.topic !== room.topic && { topic: input.topic }),
      ...(input.inviteOnly !== undefined && input.inviteOnly !== room.inviteOnly && { inviteOnly: input.inviteOnly }),
    };
    if (Object.keys(patch).length === 0) return { room, notices: [] };
    let updated: RoomRecord | null;
    try {
      updated = await this.storage.updateRoom(room.id, patch);
    } catch (e) {
      if (e instanceof StorageConflictError) throw new DomainError("ROOM_NAME_TAKEN", `A room named “${input.name}”, or one that looks the same, already exists.`);
      throw e;
    }
    if (!updated) throw notAMember();
    const notices: Message[] = [];
    if (patch.name !== undefined) {
      notices.push(await this.announce(room.id, actor, { type: "rename", from: room.name, to: updated.name }));
      await this.audit(room.id, actor, "rename", null, null, { from: room.name, to: updated.name });
    }
    if (patch.topic !== undefined) {
      notices.push(await this.announce(room.id, actor, { type: "topic", topic: updated.topic }));
      await this.audit(room.id, actor, "topic", null, null, { topic: updated.topic });
    }
    if (patch.inviteOnly !== undefined) {
      notices.push(await this.announce(room.id, actor, { type: "inviteOnly", inviteOnly: updated.inviteOnly }));
      await this.audit(room.id, actor, "inviteOnly", null, null, { inviteOnly: updated.inviteOnly });
    }
    return { room: updated, notices };
  }

  /** Appoint a moderator or take the role back. Owners and admins; idempotent (no notice then). */
  async setRole(actor: UserRef, input: { roomId: string; userId: string; role: "moderator" | "member" }): Promise<{ member: Member; notice: Message | null; target: UserRef }> {
    const { room, standing } = await this.permissions.requireModerator(input.roomId, actor, RANK.owner);
    const target = await this.requireUser(input.userId);
    const targetStanding = await this.permissions.requireOutranks(room, actor, standing, target);
    if (targetStanding.role === null) throw new DomainError("USER_NOT_FOUND", `${target.nickname} is not a member of this room.`);
    const member = { ...target, online: false, role: input.role };
    if (targetStanding.role === input.role) return { member, notice: null, target };
    await this.storage.setRole(room.id, target.id, input.role);
    await this.audit(room.id, actor, "role", target.id, null, { role: input.role });
    return { member, notice: await this.announce(room.id, actor, { type: "role", target, role: input.role }), target };
  }

  /** Remove a member; they may come back (unless the room is invite-only). */
  async kick(actor: UserRef, input: { roomId: string; userId: string }): Promise<{ notice: Message | null; target: UserRef }> {
    const { room, standing } = await this.permissions.requireModerator(input.roomId, actor);
    const target = await this.requireUser(input.userId);
    const targetStanding = await this.permissions.requireOutranks(room, actor, standing, target);
    // Kicking someone already gone is not an error (a retry, or two moderators at once).
    if (targetStanding.role === null) return { notice: null, target };
    // Written while they are still a member, so their own tabs see why the room went away.
    const notice = await this.announce(room.id, actor, { type: "kick", target });
    await this.storage.removeMember(room.id, target.id);
    await this.audit(room.id, actor, "kick", target.id, null, {});
    return { notice, target };
  }

  /** Ban a member or anyone else; idempotent (a repeat changes nothing and announces nothing). */
  async ban(actor: UserRef, input: { roomId: string; userId: string; reason?: string | undefined }): Promise<{ notice: Message | null; target: UserRef }> {
    const { room, standing } = await this.permissions.requireModerator(input.roomId, actor);
    const target = await this.requireUser(input.userId);
    await this.permissions.requireOutranks(room, actor, standing, target);
    const reason = input.reason ?? "";
    const { created } = await this.storage.banUser({ roomId: room.id, userId: target.id, bannedBy: actor.id, reason });
    if (!created) return { notice: null, target };
    await this.audit(room.id, actor, "ban", target.id, null, { reason });
    return { notice: await this.announce(room.id, actor, { type: "ban", target, reason }), target };
  }

  async unban(actor: UserRef, input: { roomId: string; userId: string }): Promise<{ notice: Message | null; target: UserRef }> {
    const { room } = await this.permissions.requireModerator(input.roomId, actor);
    const target = await this.requireUser(input.userId);
    if (!(await this.storage.unbanUser(room.id, target.id))) return { notice: null, target };
    await this.audit(room.id, actor, "unban", target.id, null, {});
    return { notice: await this.announce(room.id, actor, { type: "unban", target }), target };
  }

  async bans(actor: UserRef, roomId: string): Promise<Ban[]> {
    await this.permissions.requireModerator(roomId, actor);
    return this.storage.listBans(roomId);
  }

  /** Add a user to the room (the way into an invite-only room). Idempotent. */
  async invite(actor: UserRef, input: { roomId: string; userId: string }): Promise<{ member: Member; notice: Message | null; target: UserRef }> {
    const { room } = await this.permissions.requireModerator(input.roomId, actor);
    const target = await this.requireUser(input.userId);
    if (await this.storage.isBanned(room.id, target.id)) throw new DomainError("BANNED", `${target.nickname} is banned from this room: unban them first.`);
    const member: Member = { ...target, online: false, role: "member" };
    if (!(await this.storage.addMember(room.id, target.id))) {
      return { member: { ...member, role: (await this.storage.getRole(room.id, target.id)) ?? "member" }, notice: null, target };
    }
    await this.audit(room.id, actor, "invite", target.id, null, {});
    return { member, notice: await this.announce(room.id, actor, { type: "invite", target }), target };
  }

  async auditLog(actor: UserRef, roomId: string, limit: number | undefined): Promise<AuditEntry[]> {
    await this.permissions.requireModerator(roomId, actor);
    return this.storage.listAudit(roomId, limit ?? LIMITS.auditPageMax);
  }

  /**
   * May `actor` remove `message` written by someone else? Moderators of its (public) room who
   * outrank its author. Records the removal when allowed (the caller deletes).
   */
  async mayRemove(actor: UserRef, message: Message): Promise<boolean> {
    const room = await this.storage.getRoom(message.roomId);
    if (!room || room.kind !== "public") return false;
    const standing = await this.permissions.standing(room, actor);
    if (standing.rank < RANK.moderator) return false;
    const author = { id: message.authorId, nickname: message.authorNickname };
    const authorStanding = await this.permissions.standing(room, author);
    return authorStanding.rank < standing.rank;
  }

  async recordRemoval(actor: UserRef, message: Message): Promise<void> {
    await this.audit(message.roomId, actor, "removeMessage", message.authorId, message.id, {});
  }

  /** Hide or show another user's messages for `user` only. */
  async mute(user: UserRef, input: { userId: string; on: boolean }): Promise<string[]> {
    if (input.userId === user.id) throw new DomainError("NOT_ALLOWED", "You cannot mute yourself.");
    await this.requireUser(input.userId);
    await this.storage.setMute(user.id, input.userId, input.on);
    return this.storage.listMutedIds(user.id);
  }

  mutedIds(userId: string): Promise<string[]> {
    return this.storage.listMutedIds(userId);
  }

  /**
   * Report a message of a room the reporter is in. Returns the report and who should hear of it: the
   * room's owners and moderators (a DM has none: its reports are for the admins' list).
   */
  async report(reporter: UserRef, input: { messageId: string; reason?: string | undefined }): Promise<{ report: Report; created: boolean; staffIds: string[] }> {
    const message = await this.storage.getMessage(input.messageId);
    if (!message || !(await this.storage.isMember(message.roomId, reporter.id))) throw messageNotFound();
    if (message.kind !== "text") throw new DomainError("MESSAGE_NOT_EDITABLE", "Only messages people wrote can be reported.");
    if (message.authorId === reporter.id) throw new DomainError("NOT_ALLOWED", "You cannot report your own message.");
    if (message.deletedAt !== null) throw new DomainError("MESSAGE_DELETED", "That message was deleted.");
    const { report, created } = await this.storage.createReport({ roomId: message.roomId, messageId: message.id, reporterId: reporter.id, reason: input.reason ?? "" });
    return { report: { ...report, message }, created, staffIds: await this.storage.listStaffIds(message.roomId) };
  }

  /**
   * Reports `user` moderates: of one room, or of every room they own or moderate (admins: every
   * room and DM).
   */
  async reports(user: UserRef, input: { roomId?: string | undefined; resolved?: boolean | undefined }): Promise<Report[]> {
    let roomIds: string[] | null;
    if (input.roomId !== undefined) {
      await this.permissions.requireModerator(input.roomId, user);
      roomIds = [input.roomId];
    } else {
      roomIds = (await this.permissions.isAdmin(user)) ? null : await this.storage.listModeratedRoomIds(user.id);
      if (roomIds?.length === 0) return [];
    }
    const records = await this.storage.listReports({ roomIds, limit: REPORTS_PAGE, ...(input.resolved !== undefined && { resolved: input.resolved }) });
    return this.withMessages(records);
  }

  async resolve(user: UserRef, reportId: string): Promise<{ report: Report; staffIds: string[] }> {
    const record = await this.storage.getReport(reportId);
    if (!record || !(await this.moderatesReport(user, record))) throw new DomainError("REPORT_NOT_FOUND", "That report does not exist.");
    const resolved = (await this.storage.resolveReport(record.id, user.id)) ?? record;
    if (record.resolvedAt === null) await this.audit(record.roomId, user, "resolveReport", record.reporter.id, record.messageId, {});
    const [report] = await this.withMessages([resolved]);
    return { report: report!, staffIds: await this.storage.listStaffIds(record.roomId) };
  }

  /** Admins deactivate or reactivate an account (not their own, not another admin's). */
  async setActive(actor: UserRef, input: { userId: string; active: boolean }): Promise<{ target: UserRef; changed: boolean }> {
    if (!(await this.permissions.isAdmin(actor))) throw new DomainError("FORBIDDEN", "Only server admins can do that.");
    const target = await this.requireUser(input.userId);
    if (target.id === actor.id) throw new DomainError("FORBIDDEN", "You cannot deactivate your own account.");
    if (await this.permissions.isAdmin(target)) throw new DomainError("FORBIDDEN", "Admins cannot deactivate each other.");
    const record = await this.storage.findUserByNickname(target.nickname);
    const wasActive = record?.deactivatedAt === null;
    if (wasActive === input.active) return { target, changed: false };
    await this.storage.setDeactivated(target.id, input.active ? null : Date.now());
    if (!input.active) await this.storage.deleteUserSessions(target.id);
    await this.audit(null, actor, input.active ? "reactivate" : "deactivate", target.id, null, {});
    return { target, changed: true };
  }

  private async moderatesReport(user: UserRef, record: ReportRecord): Promise<boolean> {
    if (await this.permissions.isAdmin(user)) return true;
    const role = await this.storage.getRole(record.roomId, user.id);
    const room = await this.storage.getRoom(record.roomId);
    return room?.kind === "public" && (role === "owner" || role === "moderator");
  }

  private async withMessages(records: readonly ReportRecord[]): Promise<Report[]> {
    const reports: Report[] = [];
    for (const r of records) {
      const message = await this.storage.getMessage(r.messageId);
      // A report outlives nothing it points at (messages are never removed, only emptied).
      if (message) reports.push({ ...r, message });
    }
    return reports;
  }

  private async requireUser(userId: string): Promise<UserRef> {
    const user = await this.storage.getUser(userId);
    if (!user) throw new DomainError("USER_NOT_FOUND", "That user does not exist.");
    return { id: user.id, nickname: user.nickname };
  }

  private async announce(roomId: string, actor: UserRef, event: SystemEvent): Promise<Message> {
    const { message } = await this.storage.appendMessage({ roomId, authorId: actor.id, clientId: null, kind: "system", body: JSON.stringify(event), mentions: [] });
    return message;
  }

  private audit(roomId: string | null, actor: UserRef, action: AuditAction, targetId: string | null, messageId: string | null, detail: object): Promise<void> {
    return this.storage.appendAudit({ roomId, actorId: actor.id, action, targetId, messageId, detail: JSON.stringify(detail) });
  }
}
