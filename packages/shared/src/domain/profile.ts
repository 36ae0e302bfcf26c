import { z } from "zod";
import { LIMITS } from "./limits.js";
import { NAME_TEXT, codePointLabel, findForbiddenCharacter } from "./text.js";
import { checkedString, IdSchema, NotifyLevelSchema, type IssueParams } from "./schemas.js";

/**
 * Profiles and per-room notification settings (issue 14, "Profiles and presence"). Kept in a file
 * of their own so the protocol's other additions merge without touching these lines.
 */

/**
 * What a user says about their own reachability. `online`: the default. `away`: set by hand (the
 * web app also sets it while every tab is idle). `dnd`: do not disturb: the user's clients show no
 * notification at all, whatever the room's level. Whether a socket is connected is separate
 * (`online` in presence): an `away` user can be connected, and an offline user keeps their choice.
 */
export const AvailabilitySchema = z.enum(["online", "away", "dnd"]);
export type Availability = z.infer<typeof AvailabilitySchema>;

/** Profile text refuses control and invisible characters, like names (text.ts): it is shown beside them. */
function profileText(what: string) {
  return (value: string, ctx: z.RefinementCtx) => {
    const found = findForbiddenCharacter(value, NAME_TEXT);
    if (!found) return;
    ctx.addIssue({
      code: "custom",
      message: `${what} contains an invisible or control character (${codePointLabel(found.codePoint)} at position ${found.index})`,
      params: { errorCode: "PROFILE_INVALID" } satisfies IssueParams,
    });
  };
}

/**
 * A display name: trimmed, at most LIMITS.displayNameMax characters, one line, no control or
 * invisible characters. "" clears it (the nickname shows instead). Not unique: the nickname stays
 * the handle for @mentions and sign-in, and is shown beside a display name wherever one could
 * impersonate.
 */
export const DisplayNameSchema = checkedString(
  z
    .string()
    .trim()
    .refine((v) => v.length <= LIMITS.displayNameMax, { message: `Display name must be at most ${LIMITS.displayNameMax} characters`, params: { errorCode: "PROFILE_INVALID" } satisfies IssueParams, abort: true })
    .superRefine(profileText("Display name")),
);

/** A status line ("in a meeting until 3"): trimmed, at most LIMITS.statusTextMax, one line. "" clears it. */
export const StatusTextSchema = checkedString(
  z
    .string()
    .trim()
    .refine((v) => v.length <= LIMITS.statusTextMax, { message: `Status must be at most ${LIMITS.statusTextMax} characters`, params: { errorCode: "PROFILE_INVALID" } satisfies IssueParams, abort: true })
    .superRefine(profileText("Status")),
);

/** One user as everyone sees them: the handle and what they chose to show. */
export const ProfileSchema = z.object({
  id: IdSchema,
  /** The unique handle (sign-in, @mentions). */
  nickname: z.string(),
  /** Shown instead of the nickname where names show (the nickname beside it); null: none. */
  displayName: z.string().nullable(),
  statusText: z.string().nullable(),
  availability: AvailabilitySchema,
  /**
   * The current avatar's id, new with every upload (so a URL with it is never stale in a cache):
   * the image is at `API.avatar(userId, avatarId)`; null: no avatar (initials show).
   */
  avatarId: z.string().nullable(),
  /** When the user's last socket went away (ms since the epoch); null if never seen since profiles existed. */
  lastSeenAt: z.number().int().nullable(),
});
export type Profile = z.infer<typeof ProfileSchema>;

/** `profile:update`: change some of my profile; an absent field is kept, "" clears a text. */
export const ProfileUpdateSchema = z
  .object({
    displayName: DisplayNameSchema.optional(),
    statusText: StatusTextSchema.optional(),
    availability: AvailabilitySchema.optional(),
  })
  .strict()
  .refine((p) => p.displayName !== undefined || p.statusText !== undefined || p.availability !== undefined, {
    message: "Give at least one of displayName, statusText and availability",
  });

/** `profiles:get`: the profiles of these users (unknown ids are left out). */
export const ProfilesGetSchema = z
  .object({ userIds: z.array(IdSchema) })
  .strict()
  // Not `.max()`: zod runs length checks on a non-array `length` too (see checkedString).
  .refine((p) => Array.isArray(p.userIds) && p.userIds.length >= 1 && p.userIds.length <= LIMITS.profilesPerRequest, {
    message: `Ask for 1 to ${LIMITS.profilesPerRequest} users at a time`,
    path: ["userIds"],
  });

/** `room:notify`: set my notification level in a room I am a member of. */
export const RoomNotifySchema = z.object({ roomId: IdSchema, level: NotifyLevelSchema }).strict();
