import type { Profile } from "@parley/shared";
import type { Logger } from "../logger.js";
import type { Services } from "../services.js";
import { handle } from "./handle.js";
import { channel, type ParleyServer, type ParleySocket } from "./types.js";

/** profile:update, profiles:get and room:notify (issue 14). */
export function registerProfileHandlers(io: ParleyServer, socket: ParleySocket, services: Services, ready: Promise<void>, logger: Logger): void {
  const { userId } = socket.data;
  const guard = services.limits.commandGuard(userId);

  // The broadcast is the service's `onChanged` (wired in app.ts), so an avatar changed over HTTP
  // reaches everyone the same way.
  handle(socket, "profile:update", ready, logger, (patch) => services.profiles.update(userId, patch), guard);

  handle(socket, "profiles:get", ready, logger, ({ userIds }) => services.profiles.get(userIds), guard);

  handle(socket, "room:notify", ready, logger, async ({ roomId, level }) => {
    const room = await services.profiles.setNotifyLevel(userId, roomId, level);
    // Every tab and device of the user follows the level (the summary carries it).
    io.to(channel.user(userId)).emit("room:upserted", room);
    return room;
  }, guard);
}

/**
 * Tells everyone who can see a user that their profile changed: the members of every room the user
 * is in and the user's own tabs. One emit to the union of the channels, so a socket in several of
 * them gets it once; through the adapter (the Redis streams adapter with several nodes), so every
 * node's sockets get it.
 */
export function broadcastProfile(io: ParleyServer, profile: Profile, roomIds: readonly string[]): void {
  io.to([channel.user(profile.id), ...roomIds.map(channel.room)]).emit("user:updated", profile);
}
