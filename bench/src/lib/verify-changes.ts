import Database from "better-sqlite3";

/**
 * The change half of the fault test's verdict (issue 11): after the drain, every message a client
 * holds must be in the state the database has — same body, deleted or not, and the same users on
 * the same emoji. Read from the database file after the server stopped, like verify.ts.
 */

/** What one client holds of one message: its stored copy (the server's state, without overlays). */
export interface HeldMessage {
  id: string;
  body: string;
  deleted: boolean;
  /** Emoji -> user ids who reacted with it. */
  reactions: Readonly<Record<string, readonly string[]>>;
}

export interface ClientMessages {
  index: number;
  messages: readonly HeldMessage[];
}

/** A message as the database has it. */
export interface StoredState {
  body: string;
  deleted: boolean;
  reactions: Map<string, Set<string>>;
}

export interface ChangeVerdict {
  /** Messages compared, over every client. */
  compared: number;
  /** Held messages whose body, deleted state or reactions differ from the database. */
  diverged: number;
  /** Messages edited or deleted, and reactions stored (the changes that survived, for the line). */
  edited: number;
  deleted: number;
  reactions: number;
  details: string[];
}

const MAX_DETAILS = 8;

export function verifyChangesAgainstDb(dbPath: string, clients: readonly ClientMessages[]): ChangeVerdict {
  const db = new Database(dbPath, { readonly: true, fileMustExist: true });
  try {
    const rows = db.prepare("SELECT room_id, seq, id, body, deleted_at IS NOT NULL AS deleted, edited_at IS NOT NULL AS edited FROM messages").all() as {
      room_id: string;
      seq: number;
      id: string;
      body: string;
      deleted: number;
      edited: number;
    }[];
    const reactions = db.prepare("SELECT room_id, seq, emoji, user_id FROM reactions").all() as { room_id: string; seq: number; emoji: string; user_id: string }[];
    return judgeChanges(rows, reactions, clients);
  } finally {
    db.close();
  }
}

/** The verdict from the database's messages and reactions and what the clients hold. Pure, for tests. */
export function judgeChanges(
  rows: readonly { room_id: string; seq: number; id: string; body: string; deleted: number | boolean; edited: number | boolean }[],
  reactionRows: readonly { room_id: string; seq: number; emoji: string; user_id: string }[],
  clients: readonly ClientMessages[],
): ChangeVerdict {
  const byKey = new Map<string, StoredState>();
  const byId = new Map<string, StoredState>();
  let edited = 0;
  let deleted = 0;
  for (const r of rows) {
    const state: StoredState = { body: r.body, deleted: Boolean(r.deleted), reactions: new Map() };
    byKey.set(`${r.room_id}\u0000${r.seq}`, state);
    byId.set(r.id, state);
    if (r.edited) edited++;
    if (r.deleted) deleted++;
  }
  for (const r of reactionRows) {
    const state = byKey.get(`${r.room_id}\u0000${r.seq}`);
    if (!state) continue; // a reaction without its message is not something any client can hold
    const users = state.reactions.get(r.emoji) ?? new Set<string>();
    users.add(r.user_id);
    state.reactions.set(r.emoji, users);
  }

  const details: string[] = [];
  let compared = 0;
  let diverged = 0;
  for (const c of clients) {
    for (const m of c.messages) {
      compared++;
      const stored = byId.get(m.id);
      const why = stored ? difference(stored, m) : "not in the database";
      if (why === null) continue;
      diverged++;
      if (details.length < MAX_DETAILS) details.push(`diverged: client ${c.index} message ${m.id}: ${why}`);
    }
  }
  if (diverged > MAX_DETAILS) details.push(`diverged: ${diverged - MAX_DETAILS} more`);
  return { compared, diverged, edited, deleted, reactions: reactionRows.length, details };
}

/** How the held copy differs from the stored state, or null when it is the same. */
export function difference(stored: StoredState, held: HeldMessage): string | null {
  if (stored.deleted !== held.deleted) return `deleted ${held.deleted}, stored ${stored.deleted}`;
  if (stored.body !== held.body) return `body ${JSON.stringify(held.body)}, stored ${JSON.stringify(stored.body)}`;
  const heldEmoji = Object.keys(held.reactions).filter((e) => held.reactions[e]!.length > 0);
  if (heldEmoji.length !== stored.reactions.size) return `reactions ${describe(held.reactions)}, stored ${describeStored(stored.reactions)}`;
  for (const emoji of heldEmoji) {
    const users = stored.reactions.get(emoji);
    const mine = held.reactions[emoji]!;
    if (!users || users.size !== new Set(mine).size || mine.some((u) => !users.has(u))) {
      return `reactions ${describe(held.reactions)}, stored ${describeStored(stored.reactions)}`;
    }
  }
  return null;
}

const describe = (r: Readonly<Record<string, readonly string[]>>) =>
  Object.entries(r)
    .map(([e, u]) => `${e}:${u.length}`)
    .join(" ") || "none";
const describeStored = (r: Map<string, Set<string>>) =>
  [...r]
    .map(([e, u]) => `${e}:${u.size}`)
    .join(" ") || "none";
