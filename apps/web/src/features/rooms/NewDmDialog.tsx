import { LIMITS, type Member } from "@parley/shared";
import { useCallback, useState } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { sortByName } from "../../lib/collate.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";
import { Avatar } from "../../ui/Avatar.js";
import { Dialog } from "../../ui/Dialog.js";
import { SearchIcon } from "../../ui/icons.js";
import { useDebouncedSearch } from "./useSearch.js";

/** Find a person by nickname and open (or create) the DM with them. */
export function NewDmDialog({ onClose, onDone }: { onClose: () => void; onDone: (roomId: string) => void }) {
  const t = useT();
  const client = useChatClient();
  const myId = useChat((s) => s.me?.id ?? null);
  const [query, setQuery] = useState("");
  const [openError, setOpenError] = useState<string | null>(null);
  const searchUsers = useCallback((q: string) => client.searchUsers(q.trim()), [client]);
  const { items, loading, error } = useDebouncedSearch(searchUsers, query);
  // The server's page comes in code-point order; shown in the reader's (pinyin in zh-CN).
  const locale = useLocale();
  const people = sortByName(
    items.filter((m) => m.id !== myId),
    (m) => m.nickname,
    locale,
  );

  async function open(member: Member) {
    setOpenError(null);
    try {
      const result = await client.openDm(member.id);
      if (result.ok) {
        onClose();
        onDone(result.data.id);
        return;
      }
      setOpenError(errorText(result.error.code));
    } catch {
      setOpenError(errorText("TIMEOUT"));
    }
  }

  return (
    <Dialog title={t("rooms.newDm")} onClose={onClose}>
      <label className="search-field">
        <SearchIcon size={16} />
        <span className="visually-hidden">{t("users.searchLabel")}</span>
        <input
          type="search"
          value={query}
          maxLength={LIMITS.searchMax}
          placeholder={t("users.searchPlaceholder")}
          onChange={(e) => setQuery(e.target.value)}
          data-autofocus
        />
      </label>
      {(error ?? openError) && (
        <p className="form-error" role="alert">
          {openError ?? errorText(error)}
        </p>
      )}
      <ul className="directory" aria-busy={loading}>
        {people.map((member) => (
          <li key={member.id} className="directory-item">
            <Avatar userId={member.id} nickname={member.nickname} size={28} online={member.online} />
            <span className="directory-text">
              <span className="directory-name">{member.nickname}</span>
            </span>
            <button type="button" className="button primary" aria-label={t("rooms.dmTitle", { name: member.nickname })} onClick={() => void open(member)}>
              {t("users.message")}
            </button>
          </li>
        ))}
        {!loading && people.length === 0 && !error && <li className="muted directory-empty">{t("users.noResults")}</li>}
      </ul>
    </Dialog>
  );
}
