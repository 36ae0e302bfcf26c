import type { Message, RoomRemoved } from "@parley/shared";
import type { Logger } from "../logger.js";
import type { Services } from "../services.js";
import { handle } from "./handle.js";
import { channel, type ParleyServer, type ParleySocket } from "./types.js";

/**
 * Moderation commands (ADR 0016): thin — the rules are ModerationService's, checked on every packet.
 * What moves sockets goes through `io.in(...)`, which the Redis adapter carries to every node, so a
 * banned user's tabs leave the room wherever they are connected.
 */
export function registerModerationHandlers(io: ParleyServer, socket: ParleySocket, services: Services, ready: Promise<void>, logger: Logger): void {
  const { userId, nickname } = socket.data;
  const me = { id: userId, nickname };
  const guard = services.limits.commandGuard(userId);
  const { moderation } = services;

  const announce = (notices: readonly (Message | null)[]) => {
    for (const notice of notices) if (notice) io.to(channel.room(notice.roomId)).emit("message:created", notice);
  };

  /** Every member's own view of the room (names, topic, invite-only, their role) after a change. */
  const refreshMembers = async (roomId: string) => {
    const members = await services.rooms.memberIds(roomId);
    for (const memberId of members) {
      io.to(channel.user(memberId)).emit("room:upserted", await services.rooms.summary(roomId, memberId));
    }
  };

  /** Takes `targetId` out of the room in every tab on every node, and tells those tabs why. */
  const removeFromRoom = (roomId: string, targetId: string, reason: NonNullable<RoomRemoved["reason"]>) => {
    io.in(channel.user(targetId)).socketsLeave(channel.room(roomId));
    services.typing.stop(roomId, targetId);
    io.to(channel.user(targetId)).emit("room:removed", { roomId, reason });
  };

  handle(socket, "room:update", ready, logger, async (input) => {
    const { room, notices } = await moderation.updateRoom(me, input);
    announce(notices);
    if (notices.length > 0) await refreshMembers(room.id);
    return services.rooms.summaryFor(room.id, me);
  }, guard);

  handle(socket, "room:setRole", ready, logger, async (input) => {
    const { member, notice, target } = await moderation.setRole(me, input);
    announce([notice]);
    if (notice) io.to(channel.user(target.id)).emit("room:upserted", await services.rooms.summary(input.roomId, target.id));
    return { ...member, online: services.presence.isOnline(target.id) };
  }, guard);

  handle(socket, "room:kick", ready, logger, async (input) => {
    const { notice, target } = await moderation.kick(me, input);
    announce([notice]);
    if (notice) removeFromRoom(input.roomId, target.id, "kicked");
    return { roomId: input.roomId, userId: target.id };
  }, guard);

  handle(socket, "room:ban", ready, logger, async (input) => {
    const { notice, target } = await moderation.ban(me, input);
    // Also on a repeated ban: a tab that missed the first (a node down at the time) leaves now.
    removeFromRoom(input.roomId, target.id, "banned");
    announce([notice]);
    return { roomId: input.roomId, userId: target.id };
  }, guard);

  handle(socket, "room:unban", ready, logger, async (input) => {
    const { notice, target } = await moderation.unban(me, input);
    announce([notice]);
    return { roomId: input.roomId, userId: target.id };
  }, guard);

  handle(socket, "room:bans", ready, logger, ({ roomId }) => moderation.bans(me, roomId), guard);

  handle(socket, "room:invite", ready, logger, async (input) => {
    const { member, notice, target } = await moderation.invite(me, input);
    if (notice) {
      // Subscribe the invitee's tabs before the notice, so it is their first message of the room.
      io.in(channel.user(target.id)).socketsJoin(channel.room(input.roomId));
      io.to(channel.user(target.id)).emit("room:upserted", await services.rooms.summary(input.roomId, target.id));
      announce([notice]);
    }
    return { ...member, online: services.presence.isOnline(target.id) };
  }, guard);

  handle(socket, "room:audit", ready, logger, ({ roomId, limit }) => moderation.auditLog(me, roomId, limit), guard);

  handle(socket, "user:mute", ready, logger, async (input) => {
    const mutedUserIds = await moderation.mute(me, input);
    socket.broadcast.to(channel.user(userId)).emit("mutes:updated", { mutedUserIds });
    return { mutedUserIds };
  }, guard);

  handle(socket, "message:report", ready, logger, async (input) => {
    const { report, created, staffIds } = await moderation.report(me, input);
    if (created && staffIds.length > 0) io.to(staffIds.map((id) => channel.user(id))).emit("report:updated", report);
    return report;
  }, guard);

  handle(socket, "reports:list", ready, logger, (input) => moderation.reports(me, input), guard);

  handle(socket, "report:resolve", ready, logger, async ({ reportId }) => {
    const { report, staffIds } = await moderation.resolve(me, reportId);
    const to = [...new Set([...staffIds, userId])].map((id) => channel.user(id));
    io.to(to).emit("report:updated", report);
    return report;
  }, guard);

  handle(socket, "admin:setActive", ready, logger, async (input) => {
    const { target, changed } = await moderation.setActive(me, input);
    // Its sessions are gone already; its open sockets end now, on every node.
    if (changed && !input.active) io.in(channel.user(target.id)).disconnectSockets(true);
    return { userId: target.id, active: input.active };
  }, guard);
}
