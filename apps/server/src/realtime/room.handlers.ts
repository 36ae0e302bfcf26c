import type { Services } from "../services.js";
import type { CommandTable } from "./handle.js";
import { broadcastCreated } from "./message-broadcasts.js";
import { channel, type ParleyServer } from "./types.js";

/** session:sync and everything about rooms, members and DMs. */
export function registerRoomHandlers(commands: CommandTable, io: ParleyServer, services: Services): void {
  // Per-user budgets for room:create, dm:open and the searches (security/rate-limits.ts).
  const guard = services.limits.commandGuard;

  commands.on("session:sync", async (_, { userId, me }) => {
    const user = (await services.auth.currentUser(userId)) ?? me;
    const [data, profiles] = await Promise.all([services.rooms.sync(user, services.presence.onlineUserIds()), services.profiles.forSync(userId)]);
    return { ...data, profiles };
  });

  commands.on("room:create", async ({ name }, { me, userChannel }) => {
    const { room, notice } = await services.rooms.create(me, name);
    io.in(userChannel).socketsJoin(channel.room(room.id));
    io.to(userChannel).emit("room:upserted", room);
    broadcastCreated(io, notice);
    return room;
  }, guard);

  commands.on("room:join", async ({ roomId }, { me, userChannel }) => {
    const { room, notice } = await services.rooms.join(me, roomId);
    // Subscribe every tab before telling anyone, so the tabs cannot miss the next message.
    io.in(userChannel).socketsJoin(channel.room(roomId));
    io.to(userChannel).emit("room:upserted", room);
    if (notice) broadcastCreated(io, notice);
    return room;
  });

  commands.on("room:leave", async ({ roomId }, { me, userId, userChannel }) => {
    const { notice } = await services.rooms.leave(me, roomId);
    broadcastCreated(io, notice);
    io.in(userChannel).socketsLeave(channel.room(roomId));
    services.typing.stop(roomId, userId);
    io.to(userChannel).emit("room:removed", { roomId, reason: "left" });
    return { roomId };
  });

  commands.on("rooms:list", ({ query }, { me }) => services.rooms.list(me, query), guard);

  commands.on("room:members", ({ roomId }, { me }) => services.rooms.members(me, roomId));

  commands.on("dm:open", async ({ userId: peerId }, { me, userChannel }) => {
    const { room } = await services.rooms.openDm(me, peerId);
    // Both users' tabs subscribe now; the peer is told about the room with its first message.
    io.in([userChannel, channel.user(peerId)]).socketsJoin(channel.room(room.id));
    io.to(userChannel).emit("room:upserted", room);
    return room;
  }, guard);

  commands.on("users:search", ({ query }) => services.rooms.searchUsers(query), guard);
}
