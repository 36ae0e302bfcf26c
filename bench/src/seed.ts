import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { DEFAULT_ROOM_ID, LIMITS } from "@parley/shared";
import { hashPassword } from "../../apps/server/src/domain/password.js";
import { SqliteStorage } from "../../apps/server/src/storage/sqlite/sqlite-storage.js";
import { seededRandom } from "./lib/wait.js";
import { prepareStorage } from "../../apps/server/src/domain/setup.js";

/**
 * Seeds a SQLite database for the client benchmark through the server's own storage code
 * (`SqliteStorage`: same schema, same seq assignment, same group commit), so the history the
 * browser scrolls through is exactly what a real server would have written.
 *
 * Run it before the server starts: the file is then ours alone, and the server opens it afterwards.
 */

export interface SeedOptions {
  dbPath: string;
  /** Text messages in the seeded room (1..MAX_SEED_MESSAGES). */
  messages: number;
  /** The account the benchmark signs in with through the UI; a member of the seeded room and of #general. */
  benchUser: { nickname: string; password: string };
  roomName?: string;
  /** Distinct authors of the seeded messages (not the bench user, so nothing renders as "mine"). */
  authors?: number;
  seed?: number;
}

export interface SeedResult {
  roomId: string;
  roomName: string;
  messages: number;
  benchUserId: string;
  /** Wall time of the message appends alone (users and room excluded). */
  appendMs: number;
  totalMs: number;
}

/** Bounds the run: 1M messages is ~10x the acceptance size and still seeds in well under a minute. */
export const MAX_SEED_MESSAGES = 1_000_000;

/**
 * Appends in flight at once. `appendMessage` commits everything queued in one event-loop turn as one
 * transaction, so one chunk is one commit: 5,000 keeps commits few (20 for 100k) while the pending
 * promises and rows of one chunk stay a few MB.
 */
const CHUNK = 5_000;

/**
 * Timestamps: one message every 1..40 s (uniform), ending about now, so 100k messages span ~24 days:
 * the list gets day separators and both grouped rows (same author within minutes) and ungrouped ones,
 * like a real busy room.
 */
const MAX_GAP_MS = 40_000;

const WORDS = (
  "the a to and of we it is in that for on this you with be are as at have not but deploy build " +
  "release server client cache latency socket room message scroll render page window seq merge " +
  "review ship fix bug test flaky green red yes no maybe tomorrow today lunch coffee meeting ok " +
  "thanks sounds good looks great sure done wait why how what when where pr branch main rebase"
).split(" ");

const AUTHOR_NAMES = ["ada", "grace", "linus", "barbara", "ken", "margaret", "dennis", "radia", "alan", "frances"];

/** A body of 3..15 words mostly, sometimes up to 50 or 150 (wrapping over several lines). */
function makeBody(random: () => number, mention: string | null): string {
  const r = random();
  const words = r < 0.7 ? 3 + Math.floor(random() * 13) : r < 0.95 ? 15 + Math.floor(random() * 36) : 50 + Math.floor(random() * 101);
  const out: string[] = [];
  for (let i = 0; i < words; i++) out.push(WORDS[Math.floor(random() * WORDS.length)]!);
  if (mention) out.splice(Math.floor(random() * out.length), 0, `@${mention}`);
  const text = out.join(" ");
  return text.charAt(0).toUpperCase() + text.slice(1) + (random() < 0.2 ? "?" : ".");
}

/**
 * Formatting as people use it (issue 11), so the bench renders Markdown, not only plain text: one
 * message in five gets bold, italic, strike, inline code, a link, a list, a quote or a code block.
 */
function formatBody(random: () => number, body: string): string {
  const words = body.split(" ");
  const pick = () => Math.floor(random() * words.length);
  switch (Math.floor(random() * 8)) {
    case 0: {
      const i = pick();
      words[i] = `**${words[i]}**`;
      return words.join(" ");
    }
    case 1: {
      const i = pick();
      words[i] = `_${words[i]}_`;
      return words.join(" ");
    }
    case 2: {
      const i = pick();
      words[i] = `~~${words[i]}~~`;
      return words.join(" ");
    }
    case 3:
      return `${body} Run \`pnpm ${words[pick()]!.toLowerCase().replace(/[^a-z]/g, "") || "test"}\` first.`;
    case 4:
      return `${body} See https://example.com/docs/${words[pick()]!.toLowerCase().replace(/[^a-z]/g, "")}`;
    case 5:
      return `${words.slice(0, 3).join(" ")}:\n- ${words.slice(3, 6).join(" ") || "one"}\n- ${words.slice(6, 9).join(" ") || "two"}\n- ${words.slice(9).join(" ") || "three"}`;
    case 6:
      return `> ${words.slice(0, Math.ceil(words.length / 2)).join(" ")}\n\n${words.slice(Math.ceil(words.length / 2)).join(" ") || "Agreed."}`;
    default:
      return `${words.slice(0, 4).join(" ")}:\n\`\`\`ts\nconst ${words[0]!.toLowerCase().replace(/[^a-z]/g, "") || "x"} = await fetch("/api/${words[1] ?? "x"}");\nconsole.log(${words[0]!.toLowerCase().replace(/[^a-z]/g, "") || "x"}.status);\n\`\`\``;
  }
}

/** The emoji seeded reactions use, most popular first. */
const SEED_REACTIONS = ["👍", "❤️", "😂", "🎉", "👀", "🙏", "🔥", "✅"];

export async function seedRoom(options: SeedOptions): Promise<SeedResult> {
  const n = options.messages;
  if (!Number.isInteger(n) || n < 1 || n > MAX_SEED_MESSAGES) throw new Error(`messages must be an integer in 1..${MAX_SEED_MESSAGES}, got ${n}`);
  const authorCount = Math.max(1, Math.min(options.authors ?? 6, AUTHOR_NAMES.length));
  const random = seededRandom(options.seed ?? 1);
  const roomName = options.roomName ?? `bench-${n}`;
  const started = performance.now();

  // The storage's clock: every call moves it 1..40 s forward, so each append (one call each) gets
  // its own, increasing createdAt, ending close to now.
  let clock = Date.now() - (n + 10) * MAX_GAP_MS;
  const now = () => (clock += 1 + Math.floor(random() * MAX_GAP_MS));

  const storage = new SqliteStorage(options.dbPath, { now });
  try {
    await prepareStorage(storage);
    // The real scrypt hash of the server, so the bench user signs in through the UI like anyone else.
    const benchUser = await storage.createUser({
      nickname: options.benchUser.nickname,
      passwordHash: await hashPassword(options.benchUser.password),
    });
    const authors = [];
    for (const name of AUTHOR_NAMES.slice(0, authorCount)) {
      // Seed authors never sign in: any hash will do, and a real one would cost ~60 ms each.
      authors.push(await storage.createUser({ nickname: name, passwordHash: "seed$no-login" }));
    }
    const room = await storage.createRoom({ name: roomName, createdBy: authors[0]!.id });
    for (const a of authors) await storage.addMember(room.id, a.id);

    const appendStarted = performance.now();
    let author = authors[0]!;
    /** Ids of appended messages by seq (1-based), for replies and reactions. */
    const ids: string[] = [""];
    for (let from = 1; from <= n; from += CHUNK) {
      const batch: Promise<unknown>[] = [];
      for (let seq = from; seq < Math.min(from + CHUNK, n + 1); seq++) {
        // Runs of one author (60% stay) make grouped rows, as in a real conversation.
        if (random() >= 0.6) author = authors[Math.floor(random() * authors.length)]!;
        const mention = random() < 0.03 ? authors[Math.floor(random() * authors.length)]!.nickname : null;
        const plain = makeBody(random, mention);
        // One in twenty replies to one of the last 50 messages of the chunks before (ids are known
        // only once their chunk committed).
        const replyTo = from > 50 && random() < 0.05 ? ids[from - 1 - Math.floor(random() * 50)] : undefined;
        batch.push(
          storage
            .appendMessage({
              roomId: room.id,
              authorId: author.id,
              // Seeded history has no client ids: nothing will ever retry these sends.
              clientId: null,
              kind: "text",
              body: random() < 0.2 ? formatBody(random, plain) : plain,
              mentions: [],
              replyToId: replyTo ?? null,
            })
            .then((r) => void (ids[seq] = r.message.id)),
        );
      }
      await Promise.all(batch);
    }
    // Reactions on one message in seven: one to three emoji, each from one to all the authors.
    for (let seq = 1; seq <= n; seq++) {
      if (random() >= 1 / 7) continue;
      const emoji = SEED_REACTIONS.slice(0, 1 + Math.floor(random() * 3) + Math.floor(random() * 3));
      for (const e of emoji.slice(0, 3)) {
        const who = 1 + Math.floor(random() * authors.length);
        for (const a of authors.slice(0, who)) {
          await storage.setReaction({ messageId: ids[seq]!, userId: a.id, emoji: e, on: true, maxDistinct: LIMITS.reactionsPerMessage });
        }
      }
    }
    const appendMs = performance.now() - appendStarted;

    const stored = await storage.getRoom(room.id);
    if (stored?.lastSeq !== n) throw new Error(`seeding wrote last_seq ${stored?.lastSeq ?? "none"}, expected ${n}`);
    // Joined after the history: the bench user's read position starts at the end (no unread divider),
    // like a member who has read the room.
    await storage.addMember(room.id, benchUser.id);
    await storage.addMember(DEFAULT_ROOM_ID, benchUser.id);
    return { roomId: room.id, roomName, messages: n, benchUserId: benchUser.id, appendMs, totalMs: performance.now() - started };
  } finally {
    await storage.close();
  }
}

// `tsx src/seed.ts --db <file> [--messages N]`: seed a database by hand (e.g. to open it in `pnpm dev`).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values } = parseArgs({
    options: {
      db: { type: "string" },
      messages: { type: "string", default: "100000" },
      nickname: { type: "string", default: "bench" },
      password: { type: "string", default: "bench-password" },
    },
    strict: true,
  });
  if (!values.db) throw new Error("--db <path> is required");
  const result = await seedRoom({
    dbPath: values.db,
    messages: Number(values.messages),
    benchUser: { nickname: values.nickname, password: values.password },
  });
  process.stderr.write(
    `seeded ${result.messages} messages into #${result.roomName} (${result.roomId}) in ${Math.round(result.appendMs)} ms ` +
      `(${Math.round(result.totalMs)} ms total)\n`,
  );
}
