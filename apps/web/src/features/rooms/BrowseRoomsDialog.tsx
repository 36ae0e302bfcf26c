import { LIMITS, type RoomListing } from "@parley/shared";
import { useCallback, useState } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { sortByName } from "../../lib/collate.js";
import { useChatClient } from "../../store/client-context.js";
import { Dialog } from "../../ui/Dialog.js";
import { HashIcon, SearchIcon } from "../../ui/icons.js";
import { useDebouncedSearch } from "./useSearch.js";

/** The public room directory: search by name, see member counts, join or open. */
export function BrowseRoomsDialog({ onClose, onDone }: { onClose: () => void; onDone: (roomId: string) => void }) {
  const t = useT();
  const client = useChatClient();
  const [query, setQuery] = useState("");
  const [joining, setJoining] = useState<string | null>(null);
  const [joinError, setJoinError] = useState<string | null>(null);
  const listRooms = useCallback((q: string) => client.listRooms(q.trim() || undefined), [client]);
  const { items: found, loading, error } = useDebouncedSearch(listRooms, query);
  // The server's page comes in code-point order; shown in the reader's (pinyin in zh-CN).
  const locale = useLocale();
  const items = sortByName(found, (room) => room.name, locale);

  async function join(room: RoomListing) {
    if (room.isMember) {
      onClose();
      onDone(room.id);
      return;
    }
    setJoining(room.id);
    setJoinError(null);
    try {
      const result = await client.joinRoom(room.id);
      if (result.ok) {
        onClose();
        onDone(result.data.id);
        return;
      }
      setJoinError(errorText(result.error.code));
    } catch {
      setJoinError(errorText("TIMEOUT"));
    }
    setJoining(null);
  }

  return (
    <Dialog title={t("rooms.browse")} onClose={onClose}>
      <label className="search-field">
        <SearchIcon size={16} />
        <span className="visually-hidden">{t("rooms.searchLabel")}</span>
        <input
          type="search"
          value={query}
          maxLength={LIMITS.searchMax}
          placeholder={t("rooms.searchPlaceholder")}
          onChange={(e) => setQuery(e.target.value)}
          data-autofocus
        />
      </label>
      {(error ?? joinError) && (
        <p className="form-error" role="alert">
          {joinError ?? errorText(error)}
        </p>
      )}
      <ul className="directory" aria-busy={loading}>
        {items.map((room) => (
          <li key={room.id} className="directory-item" data-testid="directory-room" data-room-id={room.id}>
            <span className="room-icon">
              <HashIcon size={16} />
            </span>
            <span className="directory-text">
              <span className="directory-name">{room.name}</span>
              <span className="muted small">{t("rooms.memberCount", { count: room.memberCount })}</span>
            </span>
            <button
              type="button"
              className={room.isMember ? "button" : "button primary"}
              disabled={joining !== null}
              aria-label={`${room.isMember ? t("rooms.open") : t("rooms.join")} ${room.name}`}
              onClick={() => void join(room)}
            >
              {room.isMember ? t("rooms.open") : t("rooms.join")}
            </button>
          </li>
        ))}
        {!loading && items.length === 0 && !error && <li className="muted directory-empty">{t("rooms.noResults")}</li>}
      </ul>
    </Dialog>
  );
}
