import { SEARCH_PAGE_DEFAULT, type ParsedPayload, type SearchPage } from "@parley/shared";
import type { Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";
import { notAMember } from "./message.service.js";

/**
 * Message search over the rooms and DMs a user is a member of. What matches is the shared rule
 * (`matchesAll`, @parley/shared domain/search.ts), implemented by each storage backend with its
 * own index; this service turns names into ids and checks what the user may see.
 */
export class SearchService {
  constructor(private readonly storage: Storage) {}

  async search(userId: string, query: ParsedPayload<"search:messages">): Promise<SearchPage> {
    // A room filter names a room the user is in: the same refusal as everywhere for any other id,
    // so a search cannot tell which rooms exist (results are limited to member rooms anyway).
    if (query.roomId !== undefined && !(await this.storage.isMember(query.roomId, userId))) throw notAMember();
    let authorId: string | null = null;
    if (query.from !== undefined) {
      const author = await this.storage.findUserByNickname(query.from);
      if (!author) throw new DomainError("USER_NOT_FOUND", `No one is called @${query.from}.`);
      authorId = author.id;
    }
    // Empty range: nothing can match; answered without asking the database.
    if (query.after !== undefined && query.before !== undefined && query.after >= query.before) return { hits: [], nextCursor: null };
    const { messages, nextCursor } = await this.storage.searchMessages({
      userId,
      terms: query.terms,
      roomId: query.roomId ?? null,
      authorId,
      after: query.after ?? null,
      before: query.before ?? null,
      hasFile: query.hasFile === true,
      cursor: query.cursor ?? null,
      limit: query.limit ?? SEARCH_PAGE_DEFAULT,
    });
    return { hits: messages, nextCursor };
  }
}
