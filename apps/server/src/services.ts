import type { AuthService } from "./domain/auth.service.js";
import type { FileService } from "./domain/file.service.js";
import type { MessageService } from "./domain/message.service.js";
import type { ModerationService } from "./domain/moderation.service.js";
import type { PresenceService } from "./domain/presence.service.js";
import type { ProfileService } from "./domain/profile.service.js";
import type { RoomService } from "./domain/room.service.js";
import type { SearchService } from "./domain/search.service.js";
import type { TypingService } from "./domain/typing.service.js";
import type { RateLimits } from "./security/rate-limits.js";

/** The domain services one app instance runs, handed to HTTP routes and socket handlers. */
export interface Services {
  auth: AuthService;
  messages: MessageService;
  rooms: RoomService;
  /** Roles, bans, reports, mutes, admins (ADR 0016). */
  moderation: ModerationService;
  search: SearchService;
  /** Uploads and downloads of files on messages. */
  files: FileService;
  typing: TypingService;
  presence: PresenceService;
  /** Profiles, avatars, last seen and notification levels (issue 14). */
  profiles: ProfileService;
  /** Rate limits and socket caps (sign-in, socket commands, handshakes). */
  limits: RateLimits;
}
