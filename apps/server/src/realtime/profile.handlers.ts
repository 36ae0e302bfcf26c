import type { Profile } from "@parley/shared";
import type { Services } from "../services.js";
import type { CommandTable } from "./handle.js";
import { channel, type ParleyServer } from "./types.js";

/** profile:update, profiles:get and room:notify (issue 14). */
export function registerProfileHandlers(commands: CommandTable, io: ParleyServer, services: Services): void {
  const guard = services.limits.commandGuard;

  // The broadcast is the service's `onChanged` (wired in app.ts), so an avatar changed over HTTP
  // reaches everyone the same way.
  commands.on("profile:update", (patch, { userId }) => services.profiles.update(userId, patch), guard);

  commands.on("profiles:get", ({ userIds }) => services.profiles.get(userIds), guard);

  commands.on("room:notify", async ({ roomId, level }, { userId, userChannel }) => {
    const room = await services.profiles.setNotifyLevel(userId, roomId, level);
    // Every tab and device of the user follows the level (the summary carries it).
    io.to(userChannel).emit("room:upserted", room);
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
