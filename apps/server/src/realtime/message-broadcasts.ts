import { toWireMessage, type Message } from "@parley/shared";
import { channel, type ParleyServer } from "./types.js";

/**
 * The two message broadcasts, to every member's every tab on every node, in the compact form
 * (`toWireMessage`: the fields at their defaults left out, ADR 0019). Every emit of them goes
 * through here: the event's type accepts a full Message too, so only this keeps them compact.
 */
export function broadcastCreated(io: ParleyServer, message: Message): void {
  io.to(channel.room(message.roomId)).emit("message:created", toWireMessage(message));
}

/** A message's new state after an edit, a delete or a reaction (see broadcastCreated). */
export function broadcastUpdated(io: ParleyServer, message: Message): void {
  io.to(channel.room(message.roomId)).emit("message:updated", toWireMessage(message));
}
