/**
 * Limits shared by the client (to refuse early, with the same wording) and the server (to refuse
 * for real). Changing one changes the protocol: both sides read them from here.
 */
export const LIMITS = {
  nicknameMin: 1,
  nicknameMax: 32,
  passwordMin: 8,
  passwordMax: 256,
  messageMax: 4000,
  roomNameMin: 1,
  roomNameMax: 64,
  /** Largest page a client may ask for; bounds the work one request can cause. */
  pageMax: 200,
  /** Default page size when the client does not say. */
  pageDefault: 50,
  searchMax: 64,
  /**
   * Distinct users one message can mention. Each mention raises someone's mention count and may
   * notify them, so without a cap one 4000-character message of `@a @b @c ...` pings a thousand
   * people at once; 50 is far more than any conversation names, and mentions past it stay text.
   */
  mentionsMax: 50,
  /**
   * Typing indicators. The server forgets a `typing:start` after `typingTtlMs` (the default of its
   * `TYPING_TTL_MS`, still written out in apps/server/src/config.ts) unless it is repeated; a typing client repeats it every `typingRefreshMs`, well
   * under the TTL, so one late refresh does not blink the indicator off. Other clients drop an
   * indicator locally after `typingLocalTtlMs` (the server's TTL plus slack) if neither a refresh
   * nor a stop arrives, e.g. when the typist's connection dropped.
   */
  typingRefreshMs: 2_000,
  typingTtlMs: 5_000,
  typingLocalTtlMs: 6_000,
  /**
   * Distinct emoji on one message. Each is a chip under the message and a row in every fetch of it;
   * 20 covers any real conversation and bounds what one user can make everyone download.
   */
  reactionsPerMessage: 20,
  /** Longest emoji string (code units): a flag, a skin tone and a ZWJ family fit in 32. */
  emojiMax: 32,
  /** Characters of the quoted message shown in a reply's preview (its first line, cut here). */
  replyExcerptMax: 140,
  /**
   * Files one message can carry. Each is an upload the sender waits for and a thumbnail or card
   * every reader loads; ten covers "here are the screenshots" without turning a message into an album.
   */
  attachmentsPerMessage: 10,
  /** Longest file name kept (characters); a longer one is cut, keeping its extension. */
  fileNameMax: 200,
  /** A room's topic (characters): one line under the room's name. */
  topicMax: 250,
  /** The reason a moderator gives for a ban, or a user for a report (characters). */
  reasonMax: 500,
  /** Entries of the moderation log one request reads. */
  auditPageMax: 200,
  /** A profile's display name (characters): a full name in most scripts; it shows beside the nickname. */
  displayNameMax: 48,
  /** A profile's status line: a sentence, shown on one line under the name. */
  statusTextMax: 140,
  /**
   * An avatar upload (bytes). A picture is shown at 32-160 px and stored as a 256 px square, so a
   * phone photo (a few MB) is plenty; anything bigger is refused before it is read.
   */
  avatarMaxBytes: 8 * 1024 * 1024,
  /** Side of the stored avatar square (px): twice the largest size it is shown at (the card, 80 px). */
  avatarPx: 256,
  /** Users one `profiles:get` may ask for: a page of members or of a room's authors. */
  profilesPerRequest: 100,
} as const;

/** The room every account is a member of; it always exists and cannot be left. */
export const DEFAULT_ROOM_ID = "general";
export const DEFAULT_ROOM_NAME = "general";
