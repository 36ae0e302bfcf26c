import { systemEventOf, type Message } from "@parley/shared";
import type { MessageKey, Params } from "../../i18n/index.js";

type Translate = (key: MessageKey, params?: Params) => string;

/**
 * The sentence of a timeline line that no one typed: a join or leave, or a moderation `system`
 * line, whose body is a SystemEvent as JSON rendered here in the reader's language (the server
 * stores facts, not English). The actor is the message's author. A system line this version does
 * not know still says that someone changed the room rather than showing raw JSON.
 */
export function systemText(message: Pick<Message, "kind" | "body" | "authorNickname">, t: Translate): string {
  const actor = message.authorNickname;
  if (message.kind === "join") return t("chat.joined", { name: actor });
  if (message.kind === "leave") return t("chat.left", { name: actor });
  const event = systemEventOf(message);
  if (!event) return t("system.unknown", { actor });
  switch (event.type) {
    case "kick":
      return t("system.kick", { actor, target: event.target.nickname });
    case "ban":
      return event.reason.trim() === ""
        ? t("system.ban", { actor, target: event.target.nickname })
        : t("system.banReason", { actor, target: event.target.nickname, reason: event.reason });
    case "unban":
      return t("system.unban", { actor, target: event.target.nickname });
    case "invite":
      return t("system.invite", { actor, target: event.target.nickname });
    case "role":
      return t(event.role === "moderator" ? "system.roleModerator" : event.role === "owner" ? "system.roleOwner" : "system.roleMember", {
        actor,
        target: event.target.nickname,
      });
    case "rename":
      return t("system.rename", { actor, from: event.from, to: event.to });
    case "topic":
      return event.topic.trim() === "" ? t("system.topicCleared", { actor }) : t("system.topic", { actor, topic: event.topic });
    case "inviteOnly":
      return t(event.inviteOnly ? "system.inviteOnlyOn" : "system.inviteOnlyOff", { actor });
  }
}
