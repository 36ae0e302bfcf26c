import type { Logger } from "../logger.js";
import type { Services } from "../services.js";
import { handle } from "./handle.js";
import { channel, type ParleyServer, type ParleySocket } from "./types.js";

/** session:sync and everything about rooms, members and DMs. */
export function registerRoomHandlers(io: ParleyServer, socket: ParleySocket, services: Services, ready: Promise<void>, logger: Logger): void {
  const { userId, nickname } = socket.data;
  const me = { id: userId, nickname, createdAt: 0 };
  const userChannel = channel.user(userId);
  // Per-user budgets for room:create, dm:open and the searches (security/rate-limits.ts).
  const guard = services.limits.commandGuard(userId);

  handle(socket, "session:sync", ready, logger, async () => {
    const user = (await services.auth.currentUser(userId)) ?? me;
    const [data, profiles] = await Promise.all([services.rooms.sync(user, services.presence.onlineUserIds()), services.profiles.forSync(userId)]);
    return { ...data, profiles };
  });

  handle(socket, "room:create", ready, logger, async ({ name }) => {
    const { room, notice } = await services.rooms.create(me, name);
    io.in(userChannel).socketsJoin(channel.room(room.id));
    io.to(userChannel).emit("room:upserted", room);
    io.to(channel.room(room.id)).emit("message:created", notice);
    return room;
  }, guard);

  handle(socket, "room:join", ready, logger, async ({ roomId }) => {
    const { room, notice } = await services.rooms.join(me, roomId);
    // Subscribe every tab before telling anyone, so the tabs cannot miss the next message.
    io.in(userChannel).socketsJoin(channel.room(roomId));
    io.to(userChannel).emit("room:upserted", room);
    if (notice) io.to(channel.room(roomId)).emit("message:created", notice);
    return room;
  });

  handle(socket, "room:leave", ready, logger, async ({ roomId }) => {
    const { notice } = await services.rooms.leave(me, roomId);
    io.to(channel.room(roomId)).emit("message:created", notice);
    io.in(userChannel).socketsLeave(channel.room(roomId));
    services.typing.stop(roomId, userId);
    io.to(userChannel).emit("room:removed", { roomId, reason: "left" });
    return { roomId };
  });

  handle(socket, "rooms:list", ready, logger, ({ query }) => services.rooms.list(me, query), guard);

  handle(socket, "room:members", ready, logger, ({ roomId }) => services.rooms.members(me, roomId));

  handle(socket, "dm:open", ready, logger, async ({ userId: peerId }) => {
    const { room } = await services.rooms.openDm(me, peerId);
    // Both users' tabs subscribe now; the peer is told about the room with its first message.
    io.in([userChannel, channel.user(peerId)]).socketsJoin(channel.room(room.id));
    io.to(userChannel).emit("room:upserted", room);
    return room;
  }, guard);

  handle(socket, "users:search", ready, logger, ({ query }) => services.rooms.searchUsers(query), guard);
}
