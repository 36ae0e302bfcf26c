import type { TimelineItem } from "../../store/selectors.js";
import { attachmentsHeight } from "./attachments/attachment-layout.js";

/**
 * First guesses at row heights (px, from the stylesheet at the laptop width); real heights are
 * measured as rows render. Close guesses matter: every first measurement of a row above the view
 * corrects scrollTop while the user scrolls up through history.
 */
/**
 * Per stored message (immutable: a change makes a new object), what its body and decorations add
 * to a row's height. The virtualiser asks for estimates of every row of the window whenever a row
 * is measured or a page lands; splitting every body each time showed in bench:client's profile.
 */
const bodyExtra = new WeakMap<object, number>();

export function estimateItem(item: TimelineItem): number {
  switch (item.type) {
    case "message": {
      // Each wrapped line past the first, plus what sits under or above the body: a guess that
      // misses by a line costs one small correction, one that misses a code block or a list costs
      // a visible jump and a second layout in the frame (bench:client, issue 11).
      const m = item.message;
      let extra = bodyExtra.get(m);
      if (extra === undefined) {
        extra = (bodyLines(m.body) - 1) * LINE_PX;
        if (m.body.includes("```")) extra += CODE_BLOCK_PX;
        if (m.reactions.length > 0 && m.deletedAt === null) extra += REACTIONS_PX;
        if (m.replyTo) extra += REPLY_QUOTE_PX;
        if (m.attachments.length > 0 && m.deletedAt === null) {
          extra += attachmentsHeight(m.attachments);
          // A message of files only renders no text line (MessageRow).
          if (m.body.trim() === "") extra -= LINE_PX;
        }
        bodyExtra.set(m, extra);
      }
      return (item.grouped ? 26 : 58) + extra;
    }
    case "pending": {
      const p = item.pending;
      let height = (item.grouped ? 26 : 58) + (bodyLines(p.body) - 1) * LINE_PX;
      if (p.uploadIds.length > 0) {
        // Upload chips, CHIPS_PER_LINE to a line; no text line when there is no text.
        height += Math.ceil(p.uploadIds.length / CHIPS_PER_LINE) * (UPLOAD_CHIP_PX + 6) + 4;
        if (p.body.trim() === "") height -= LINE_PX;
      }
      return height;
    }
    case "day":
    case "divider":
      return 36;
    case "system": {
      // A moderation line with a long topic or ban reason wraps (its JSON body is about as long
      // as the sentence); joins and leaves are one line.
      const m = item.message;
      return m.kind === "system" ? SYSTEM_LINE_PX + (Math.max(1, Math.ceil(m.body.length / SYSTEM_CHARS_PER_LINE)) - 1) * SYSTEM_TEXT_PX : SYSTEM_LINE_PX;
    }
    default:
      return 30;
  }
}

/** A centred system line (app.css `.system-line`), its text's line height, and characters per line. */
const SYSTEM_LINE_PX = 30;
const SYSTEM_TEXT_PX = 18;
const SYSTEM_CHARS_PER_LINE = 110;
/** Body line height and the extra height of a code block, a reaction row and a reply quote (px, app.css). */
const LINE_PX = 22;
const CODE_BLOCK_PX = 24;
const REACTIONS_PX = 32;
const REPLY_QUOTE_PX = 22;
/** An upload chip's height and how many fit on a line at the laptop width (app.css `.upload-chip`). */
const UPLOAD_CHIP_PX = 56;
const CHIPS_PER_LINE = 2;
/** Characters per line of body text at the laptop width the estimates are made for. */
const CHARS_PER_LINE = 95;

/** Lines a body wraps into: each line break starts one, long lines wrap. */
function bodyLines(body: string): number {
  let lines = 0;
  for (const line of body.split("\n")) lines += Math.max(1, Math.ceil(line.length / CHARS_PER_LINE));
  return lines;
}
