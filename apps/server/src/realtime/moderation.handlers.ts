import type { Message, RoomRemoved } from "@parley/shared";
import type { Services } from "../services.js";
import type { CommandTable } from "./handle.js";
import { broadcastCreated } from "./message-broadcasts.js";
import { channel, type ParleyServer } from "./types.js";

/**
 * Moderation commands (ADR 0016): thin — the rules are ModerationService's, checked on every packet.
 * What moves sockets goes through `io.in(...)`, which the Redis adapter carries to every node, so a
 * banned user's tabs leave the room wherever they are connected.
 */
export function registerModerationHandlers(commands: CommandTable, io: ParleyServer, services: Services): void {
  const guard = services.limits.commandGuard;
  const { moderation } = services;

  const announce = (notices: readonly (Message | null)[]) => {
    for (const notice of notices) if (notice) broadcastCreated(io, notice);
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

  commands.on("room:update", async (input, { me }) => {
    const { room, notices } = await moderation.updateRoom(me, input);
    announce(notices);
    if (notices.length > 0) await refreshMembers(room.id);
    return services.rooms.summaryFor(room.id, me);
  }, guard);

  commands.on("room:setRole", async (input, { me }) => {
    const { member, notice, target } = await moderation.setRole(me, input);
    announce([notice]);
    if (notice) io.to(channel.user(target.id)).emit("room:upserted", await services.rooms.summary(input.roomId, target.id));
    return { ...member, online: services.presence.isOnline(target.id) };
  }, guard);

  commands.on("room:kick", async (input, { me }) => {
    const { notice, target } = await moderation.kick(me, input);
    announce([notice]);
    if (notice) removeFromRoom(input.roomId, target.id, "kicked");
    return { roomId: input.roomId, userId: target.id };
  }, guard);

  commands.on("room:ban", async (input, { me }) => {
    const { notice, target } = await moderation.ban(me, input);
    // Also on a repeated ban: a tab that missed the first (a node down at the time) leaves now.
    removeFromRoom(input.roomId, target.id, "banned");
    announce([notice]);
    return { roomId: input.roomId, userId: target.id };
  }, guard);

  commands.on("room:unban", async (input, { me }) => {
    const { notice, target } = await moderation.unban(me, input);
    announce([notice]);
    return { roomId: input.roomId, userId: target.id };
  }, guard);

  commands.on("room:bans", ({ roomId }, { me }) => moderation.bans(me, roomId), guard);

  commands.on("room:invite", async (input, { me }) => {
    const { member, notice, target } = await moderation.invite(me, input);
    if (notice) {
      // Subscribe the invitee's tabs before the notice, so it is their first message of the room.
      io.in(channel.user(target.id)).socketsJoin(channel.room(input.roomId));
      io.to(channel.user(target.id)).emit("room:upserted", await services.rooms.summary(input.roomId, target.id));
      announce([notice]);
    }
    return { ...member, online: services.presence.isOnline(target.id) };
  }, guard);

  commands.on("room:audit", ({ roomId, limit }, { me }) => moderation.auditLog(me, roomId, limit), guard);

  commands.on("user:mute", async (input, { me, socket, userChannel }) => {
    const mutedUserIds = await moderation.mute(me, input);
    socket.broadcast.to(userChannel).emit("mutes:updated", { mutedUserIds });
    return { mutedUserIds };
  }, guard);

  commands.on("message:report", async (input, { me }) => {
    const { report, created, staffIds } = await moderation.report(me, input);
    if (created && staffIds.length > 0) io.to(staffIds.map((id) => channel.user(id))).emit("report:updated", report);
    return report;
  }, guard);

  commands.on("reports:list", (input, { me }) => moderation.reports(me, input), guard);

  commands.on("report:resolve", async ({ reportId }, { me }) => {
    const { report, staffIds } = await moderation.resolve(me, reportId);
    const to = [...new Set([...staffIds, me.id])].map((id) => channel.user(id));
    io.to(to).emit("report:updated", report);
    return report;
  }, guard);

  commands.on("admin:setActive", async (input, { me }) => {
    const { target, changed } = await moderation.setActive(me, input);
    // Its sessions are gone already; its open sockets end now, on every node.
    if (changed && !input.active) io.in(channel.user(target.id)).disconnectSockets(true);
    return { userId: target.id, active: input.active };
  }, guard);
}
