import { useEffect, useRef, useState } from "react";
import { useT } from "../../i18n/index.js";
import { useChat } from "../../store/hooks.js";
import { SearchIcon } from "../../ui/icons.js";
import { searchRequest, type SearchBoxError } from "./search-request.js";
import type { ActiveSearch } from "./SearchPanel.js";
import { useImeSafeEnter } from "../../lib/ime.js";

/**
 * The header's search box. Enter searches (the panel shows the results); a box the parser refuses
 * says why under it. Ctrl+K (⌘K on a Mac) focuses it from anywhere in the app.
 */
export function SearchBox({ onSearch }: { onSearch: (search: Omit<ActiveSearch, "nonce">) => void }) {
  const t = useT();
  // Enter that picks a Chinese (IME) candidate must not submit the form.
  const imeSafe = useImeSafeEnter();
  const rooms = useChat((s) => s.rooms);
  const [text, setText] = useState("");
  const [error, setError] = useState<SearchBoxError | null>(null);
  const input = useRef<HTMLInputElement>(null);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if ((e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === "k") {
        e.preventDefault();
        input.current?.focus();
        input.current?.select();
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, []);

  const submit = () => {
    const request = searchRequest(text, Object.values(rooms));
    if (!request.ok) {
      setError(request.error);
      return;
    }
    setError(null);
    // On a phone the results cover the screen: close the keyboard and let the box shrink back.
    if (window.matchMedia("(max-width: 640px)").matches) input.current?.blur();
    onSearch({ text: text.trim(), request });
  };

  return (
    <form
      className="search-box"
      role="search"
      {...imeSafe}
      onSubmit={(e) => {
        e.preventDefault();
        submit();
      }}
    >
      <SearchIcon size={15} aria-hidden="true" />
      <input
        ref={input}
        type="search"
        value={text}
        onChange={(e) => {
          setText(e.target.value);
          if (error) setError(null);
        }}
        onKeyDown={(e) => {
          if (e.key === "Escape") {
            setText("");
            setError(null);
            e.currentTarget.blur();
          }
        }}
        placeholder={t("search.placeholder")}
        aria-label={t("search.label")}
        aria-describedby={error ? "search-error" : undefined}
        aria-invalid={error ? true : undefined}
        title={t("search.hint")}
        maxLength={256}
        enterKeyHint="search"
      />
      <kbd className="search-shortcut" aria-hidden="true">
        {/* Key caps read the same in every locale (Chinese keyboards say Ctrl too). */}
        {/* eslint-disable-next-line no-restricted-syntax */}
        {/Mac|iPhone|iPad/.test(navigator.platform) ? "⌘K" : "Ctrl K"}
      </kbd>
      {error && (
        <p id="search-error" className="search-error" role="alert">
          {t(`search.error.${error.code}`, "value" in error ? { value: error.value } : {})}
        </p>
      )}
    </form>
  );
}
