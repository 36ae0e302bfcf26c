import type { Message } from "@parley/shared";
import type { Services } from "../services.js";
import type { CommandTable } from "./handle.js";
import { broadcastCreated, broadcastUpdated } from "./message-broadcasts.js";
import { channel, type ParleyServer } from "./types.js";

/** message:send/edit/delete, reaction:set, messages:fetch, search:messages, room:read, typing:start/stop. */
export function registerMessageHandlers(commands: CommandTable, io: ParleyServer, services: Services): void {
  // Per-user budgets (security/rate-limits.ts): a refused send is answered RATE_LIMITED with
  // retryAfterMs, and the client core keeps the message queued until then.
  const guard = services.limits.commandGuard;

  commands.on("message:send", async (payload, { userId }) => {
    const { message, created, dmOpenedFor } = await services.messages.send(userId, payload);
    if (created) {
      services.typing.stop(payload.roomId, userId);
      if (dmOpenedFor) {
        // The DM appears for the peer with its first message, in every tab they have open.
        const peerRoom = await services.rooms.summary(payload.roomId, dmOpenedFor);
        io.to(channel.user(dmOpenedFor)).emit("room:upserted", peerRoom);
      }
      broadcastCreated(io, message);
    }
    // A retry of a stored message gets the original back; the broadcast already happened, and
    // anyone who missed it gets it by seq catch-up.
    return message;
  }, guard);

  // Changes to a message: the new state goes to every member's every tab (the author's other tabs
  // included) only when something was stored; a retry or a no-op answers with the stored message
  // and broadcasts nothing (whoever missed the first broadcast gets it by `changedSince` catch-up).
  const broadcastChange = (result: { message: Message; changed: boolean }) => {
    if (result.changed) broadcastUpdated(io, result.message);
    return result.message;
  };

  commands.on("message:edit", async (payload, { userId }) => {
    const result = await services.messages.edit(userId, payload);
    broadcastChange(result);
    return { message: result.message, conflict: result.conflict };
  }, guard);

  commands.on("message:delete", async ({ messageId }, { userId, nickname }) => broadcastChange(await services.messages.delete({ id: userId, nickname }, messageId)), guard);

  commands.on("reaction:set", async (payload, { userId }) => broadcastChange(await services.messages.react(userId, payload)), guard);

  commands.on("messages:fetch", (payload, { userId }) => services.messages.fetch(userId, payload));

  commands.on("search:messages", (payload, { userId }) => services.search.search(userId, payload), guard);

  commands.on("room:read", async ({ roomId, seq }, { socket, userId, userChannel }) => {
    const summary = await services.messages.markRead(userId, roomId, seq);
    // Every tab of this user shows the same read position and unread count.
    socket.to(userChannel).emit("room:upserted", summary);
    return summary;
  });

  commands.on("typing:start", async ({ roomId }, { socket, userId, nickname }) => {
    await services.messages.requireMember(userId, roomId);
    // Over budget, a start is dropped, not refused: the indicator is cosmetic, the client repeats
    // it every 2 s anyway, and an error would only make a well-behaved client noisy. A stop is
    // never dropped (it only broadcasts when the user was shown typing, so it cannot flood).
    if (!(await services.limits.typingAllowed(userId))) return null;
    services.typing.start(roomId, userId, nickname, socket.id);
    return null;
  });

  commands.on("typing:stop", async ({ roomId }, { userId }) => {
    await services.messages.requireMember(userId, roomId);
    services.typing.stop(roomId, userId);
    return null;
  });
}
