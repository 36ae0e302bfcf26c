import type { Message, RoomRole, SystemEvent, UserRef } from "./schemas.js";

/**
 * `systemEventOf` without zod. The web app needs nothing else of the schemas, and zod is 24 kB gzip
 * of its first visit (issue 15's budget): this module imports only types, so the web bundle leaves
 * zod out (`sideEffects: false` in package.json lets the bundler drop the schema modules nothing
 * uses). `SystemEventSchema` stays the wire format's declaration; a property
 * test (test/system-event.test.ts) checks this reads exactly what its `safeParse` accepts, and
 * returns the same object (unknown keys stripped, as zod's objects do).
 */

const ROLES: ReadonlySet<string> = new Set<RoomRole>(["owner", "moderator", "member"]);

type Fields = Readonly<Record<string, unknown>>;

function isObject(value: unknown): value is Fields {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** `IdSchema`: a string of 1 to 128 UTF-16 units. */
function isId(value: unknown): value is string {
  return typeof value === "string" && value.length >= 1 && value.length <= 128;
}

/** `UserRefSchema`, its two fields only. */
function userRef(value: unknown): UserRef | null {
  if (!isObject(value) || !isId(value.id) || typeof value.nickname !== "string") return null;
  return { id: value.id, nickname: value.nickname };
}

/** `SystemEventSchema.safeParse(value)`'s data, or null where it fails. */
function readSystemEvent(value: unknown): SystemEvent | null {
  if (!isObject(value)) return null;
  switch (value.type) {
    case "kick":
    case "unban":
    case "invite": {
      const target = userRef(value.target);
      return target && { type: value.type, target };
    }
    case "ban": {
      const target = userRef(value.target);
      return target && typeof value.reason === "string" ? { type: "ban", target, reason: value.reason } : null;
    }
    case "role": {
      const target = userRef(value.target);
      return target && typeof value.role === "string" && ROLES.has(value.role) ? { type: "role", target, role: value.role as RoomRole } : null;
    }
    case "rename":
      return typeof value.from === "string" && typeof value.to === "string" ? { type: "rename", from: value.from, to: value.to } : null;
    case "topic":
      return typeof value.topic === "string" ? { type: "topic", topic: value.topic } : null;
    case "inviteOnly":
      return typeof value.inviteOnly === "boolean" ? { type: "inviteOnly", inviteOnly: value.inviteOnly } : null;
    default:
      return null;
  }
}

/** The event a `system` message records, or null when its body is not one this version knows. */
export function systemEventOf(message: Pick<Message, "kind" | "body">): SystemEvent | null {
  if (message.kind !== "system") return null;
  try {
    return readSystemEvent(JSON.parse(message.body));
  } catch {
    return null;
  }
}
