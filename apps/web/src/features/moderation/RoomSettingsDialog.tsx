import { LIMITS, systemEventOf, type AckResult, type AuditEntry, type Ban, type Member, type Report, type RoomSummary } from "@parley/shared";
import { useCallback, useEffect, useId, useMemo, useRef, useState, type FormEvent, type KeyboardEvent } from "react";
import { errorText, useLocale, useT } from "../../i18n/index.js";
import { formatDay, formatFullDate, formatTime } from "../../lib/time.js";
import { useChatClient } from "../../store/client-context.js";
import { useChat } from "../../store/hooks.js";
import { Avatar } from "../../ui/Avatar.js";
import { Dialog } from "../../ui/Dialog.js";
import { SearchIcon } from "../../ui/icons.js";
import { showToast } from "../../ui/toasts.js";
import { excerptOf } from "../chat/chat-ui.js";
import { systemText } from "../chat/system-text.js";
import { useDebouncedSearch } from "../rooms/useSearch.js";

export type SettingsTab = "general" | "invite" | "bans" | "reports" | "log";
const TABS: readonly SettingsTab[] = ["general", "invite", "bans", "reports", "log"];

/**
 * A room's settings for its owners, moderators and admins: name, topic and invite-only; inviting
 * people; the banned users; the reports; the moderation log. The header's gear opens it (only for
 * those whose role allows it; the server checks every action again).
 */
export function RoomSettingsDialog({ room, initialTab = "general", onClose }: { room: RoomSummary; initialTab?: SettingsTab; onClose: () => void }) {
  const t = useT();
  const [tab, setTab] = useState<SettingsTab>(initialTab);
  const openReports = useChat((s) => {
    let n = 0;
    for (const r of Object.values(s.reports)) if (r.roomId === room.id && r.resolvedAt === null) n++;
    return n;
  });
  const baseId = useId();
  const tabRefs = useRef<Partial<Record<SettingsTab, HTMLButtonElement | null>>>({});

  const labels: Record<SettingsTab, string> = {
    general: t("moderation.tabGeneral"),
    invite: t("moderation.tabInvite"),
    bans: t("moderation.tabBans"),
    reports: t("moderation.tabReports"),
    log: t("moderation.tabLog"),
  };

  // The tab list follows the WAI-ARIA tabs pattern: arrows move between tabs, Home/End to the ends.
  function onTabKey(e: KeyboardEvent<HTMLDivElement>) {
    const at = TABS.indexOf(tab);
    const next =
      e.key === "ArrowRight" ? TABS[(at + 1) % TABS.length] : e.key === "ArrowLeft" ? TABS[(at + TABS.length - 1) % TABS.length] : e.key === "Home" ? TABS[0] : e.key === "End" ? TABS.at(-1) : undefined;
    if (!next) return;
    e.preventDefault();
    setTab(next);
    tabRefs.current[next]?.focus();
  }

  return (
    <Dialog title={t("moderation.settings")} onClose={onClose} className="settings-dialog">
      <p className="settings-room muted">#{room.name}</p>
      <div className="settings-tabs" role="tablist" aria-label={t("moderation.settingsFor", { room: room.name })} onKeyDown={onTabKey}>
        {TABS.map((id) => (
          <button
            key={id}
            ref={(el) => {
              tabRefs.current[id] = el;
            }}
            type="button"
            role="tab"
            id={`${baseId}-tab-${id}`}
            aria-selected={tab === id}
            aria-controls={`${baseId}-panel-${id}`}
            tabIndex={tab === id ? 0 : -1}
            className="settings-tab"
            onClick={() => setTab(id)}
          >
            {labels[id]}
            {id === "reports" && openReports > 0 && (
              <>
                <span className="badge mention" aria-hidden="true">
                  {openReports}
                </span>
                <span className="visually-hidden">{t("moderation.reportsBadge", { count: openReports })}</span>
              </>
            )}
          </button>
        ))}
      </div>
      <div className="settings-panel" role="tabpanel" id={`${baseId}-panel-${tab}`} aria-labelledby={`${baseId}-tab-${tab}`} tabIndex={0} data-testid={`settings-${tab}`}>
        {tab === "general" && <GeneralPanel room={room} />}
        {tab === "invite" && <InvitePanel room={room} />}
        {tab === "bans" && <BansPanel room={room} />}
        {tab === "reports" && <ReportsPanel room={room} />}
        {tab === "log" && <LogPanel room={room} />}
      </div>
    </Dialog>
  );
}

/** "Today 14:05", "Nov 21, 2025 9:30 AM": short enough for a line under a name (the full date is in the tooltip). */
function useWhen(): (at: number) => string {
  const t = useT();
  const locale = useLocale();
  const now = Date.now();
  return (at) => `${formatDay(at, now, locale, { today: t("time.today"), yesterday: t("time.yesterday") })} ${formatTime(at, locale)}`;
}

/** Runs an action, turning a refusal or a lost answer into a translated error (null: it worked). */
async function attempt<T>(run: () => Promise<AckResult<T>>): Promise<{ ok: true; data: T } | { ok: false; error: string }> {
  try {
    const r = await run();
    return r.ok ? { ok: true, data: r.data } : { ok: false, error: errorText(r.error.code) };
  } catch {
    return { ok: false, error: errorText("TIMEOUT") };
  }
}

/** A list fetched when the panel opens (and again on `reload`). */
function useFetched<T>(fetch: () => Promise<AckResult<T[]>>): { items: T[] | null; error: string | null; reload: () => void; setItems: (f: (items: T[]) => T[]) => void } {
  const [state, setState] = useState<{ items: T[] | null; error: string | null }>({ items: null, error: null });
  const [nonce, setNonce] = useState(0);
  useEffect(() => {
    let current = true;
    void attempt(fetch).then((r) => {
      if (current) setState(r.ok ? { items: r.data, error: null } : { items: [], error: r.error });
    });
    return () => {
      current = false;
    };
  }, [fetch, nonce]);
  return {
    ...state,
    reload: () => setNonce((n) => n + 1),
    setItems: (f) => setState((s) => ({ ...s, items: f(s.items ?? []) })),
  };
}

function GeneralPanel({ room }: { room: RoomSummary }) {
  const t = useT();
  const client = useChatClient();
  const [name, setName] = useState(room.name);
  const [topic, setTopic] = useState(room.topic);
  const [inviteOnly, setInviteOnly] = useState(room.inviteOnly);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [saved, setSaved] = useState(false);

  async function save(e: FormEvent) {
    e.preventDefault();
    // Only what changed: each change is its own line in the room and in the log.
    const patch: { name?: string; topic?: string; inviteOnly?: boolean } = {};
    if (name.trim() !== room.name) patch.name = name.trim();
    if (topic.trim() !== room.topic) patch.topic = topic.trim();
    if (inviteOnly !== room.inviteOnly) patch.inviteOnly = inviteOnly;
    if (Object.keys(patch).length === 0) return;
    setBusy(true);
    setError(null);
    setSaved(false);
    const r = await attempt(() => client.updateRoom(room.id, patch));
    setBusy(false);
    if (r.ok) setSaved(true);
    else setError(r.error);
  }

  return (
    <form className="dialog-form settings-form" onSubmit={(e) => void save(e)}>
      <label className="field">
        <span>{t("moderation.nameLabel")}</span>
        <input value={name} maxLength={LIMITS.roomNameMax} onChange={(e) => setName(e.target.value)} data-autofocus />
      </label>
      <label className="field">
        <span>{t("moderation.topicLabel")}</span>
        <input value={topic} maxLength={LIMITS.topicMax} placeholder={t("moderation.topicPlaceholder")} onChange={(e) => setTopic(e.target.value)} />
      </label>
      <label className="check-field">
        <input type="checkbox" checked={inviteOnly} onChange={(e) => setInviteOnly(e.target.checked)} />
        <span>
          <span className="check-label">{t("moderation.inviteOnly")}</span>
          <small className="muted">{t("moderation.inviteOnlyHint")}</small>
        </span>
      </label>
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      <div className="dialog-actions">
        {saved && (
          <span className="muted small settings-saved" role="status">
            {t("moderation.saved")}
          </span>
        )}
        <button type="submit" className="button primary" disabled={busy}>
          {t("moderation.save")}
        </button>
      </div>
    </form>
  );
}

function InvitePanel({ room }: { room: RoomSummary }) {
  const t = useT();
  const client = useChatClient();
  const myId = useChat((s) => s.me?.id ?? null);
  const [query, setQuery] = useState("");
  const [added, setAdded] = useState<ReadonlySet<string>>(new Set());
  const [error, setError] = useState<string | null>(null);
  const searchUsers = useCallback((q: string) => client.searchUsers(q.trim()), [client]);
  const { items, loading, error: searchError } = useDebouncedSearch(searchUsers, query);
  const people = items.filter((m) => m.id !== myId);

  async function invite(member: Member) {
    setError(null);
    const r = await attempt(() => client.invite(room.id, member.id));
    if (!r.ok) return setError(r.error);
    setAdded((s) => new Set(s).add(member.id));
    showToast(t("moderation.invited", { name: member.nickname }));
  }

  return (
    <div className="settings-list-panel">
      <label className="search-field">
        <SearchIcon size={16} />
        <span className="visually-hidden">{t("users.searchLabel")}</span>
        <input type="search" value={query} maxLength={LIMITS.searchMax} placeholder={t("users.searchPlaceholder")} onChange={(e) => setQuery(e.target.value)} data-autofocus />
      </label>
      {(error ?? searchError) && (
        <p className="form-error" role="alert">
          {error ?? errorText(searchError)}
        </p>
      )}
      <ul className="directory" aria-busy={loading}>
        {people.map((member) => (
          <li key={member.id} className="directory-item" data-testid="invite-candidate">
            <Avatar userId={member.id} nickname={member.nickname} size={28} online={member.online} />
            <span className="directory-text">
              <span className="directory-name">{member.nickname}</span>
            </span>
            {added.has(member.id) ? (
              <span className="muted small">{t("moderation.alreadyMember")}</span>
            ) : (
              <button type="button" className="button primary" aria-label={t("moderation.inviteName", { name: member.nickname })} onClick={() => void invite(member)}>
                {t("moderation.invite")}
              </button>
            )}
          </li>
        ))}
        {!loading && people.length === 0 && !searchError && <li className="muted directory-empty">{t("users.noResults")}</li>}
      </ul>
    </div>
  );
}

function BansPanel({ room }: { room: RoomSummary }) {
  const t = useT();
  const when = useWhen();
  const client = useChatClient();
  const fetchBans = useCallback(() => client.listBans(room.id), [client, room.id]);
  const { items, error, setItems } = useFetched<Ban>(fetchBans);
  const [actionError, setActionError] = useState<string | null>(null);

  async function unban(ban: Ban) {
    setActionError(null);
    const r = await attempt(() => client.unban(room.id, ban.user.id));
    if (!r.ok) return setActionError(r.error);
    setItems((list) => list.filter((b) => b.user.id !== ban.user.id));
  }

  return (
    <div className="settings-list-panel">
      {(error ?? actionError) && (
        <p className="form-error" role="alert">
          {actionError ?? error}
        </p>
      )}
      {items === null ? (
        <p className="muted panel-empty">{t("moderation.loading")}</p>
      ) : items.length === 0 ? (
        <p className="muted panel-empty">{t("moderation.noBans")}</p>
      ) : (
        <ul className="settings-list">
          {items.map((ban) => (
            <li key={ban.user.id} className="settings-item" data-testid="ban" data-user-id={ban.user.id}>
              <Avatar userId={ban.user.id} nickname={ban.user.nickname} size={28} />
              <span className="settings-item-text">
                <span className="settings-item-title">{ban.user.nickname}</span>
                <span className="muted small">{t("moderation.bannedBy", { name: ban.bannedBy.nickname, time: when(ban.createdAt) })}</span>
                {ban.reason && <span className="small">{t("moderation.reason", { reason: ban.reason })}</span>}
              </span>
              <button type="button" className="button" aria-label={t("moderation.unbanName", { name: ban.user.nickname })} onClick={() => void unban(ban)}>
                {t("moderation.unban")}
              </button>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

function ReportsPanel({ room }: { room: RoomSummary }) {
  const t = useT();
  const client = useChatClient();
  const [resolved, setResolved] = useState(false);
  const [state, setState] = useState<{ loaded: boolean; error: string | null }>({ loaded: false, error: null });
  const [actionError, setActionError] = useState<string | null>(null);
  const held = useChat((s) => s.reports);

  // The list answers into the store (`reports`), where `report:updated` keeps it live: a report
  // filed while the panel is open appears in it.
  useEffect(() => {
    let current = true;
    setState({ loaded: false, error: null });
    void attempt(() => client.listReports({ roomId: room.id, resolved })).then((r) => {
      if (current) setState({ loaded: true, error: r.ok ? null : r.error });
    });
    return () => {
      current = false;
    };
  }, [client, room.id, resolved]);

  const reports = useMemo(
    () =>
      Object.values(held)
        .filter((r) => r.roomId === room.id && (r.resolvedAt !== null) === resolved)
        .sort((a, b) => b.createdAt - a.createdAt),
    [held, room.id, resolved],
  );

  async function run(action: () => Promise<AckResult<unknown>>, after?: () => void) {
    setActionError(null);
    const r = await attempt(action);
    if (!r.ok) setActionError(r.error);
    else after?.();
  }

  return (
    <div className="settings-list-panel">
      <div className="segmented" role="group" aria-label={t("moderation.tabReports")}>
        <button type="button" className="segment" aria-pressed={!resolved} onClick={() => setResolved(false)}>
          {t("moderation.reportsOpen")}
        </button>
        <button type="button" className="segment" aria-pressed={resolved} onClick={() => setResolved(true)}>
          {t("moderation.reportsResolved")}
        </button>
      </div>
      {(state.error ?? actionError) && (
        <p className="form-error" role="alert">
          {actionError ?? state.error}
        </p>
      )}
      {!state.loaded && reports.length === 0 ? (
        <p className="muted panel-empty">{t("moderation.loading")}</p>
      ) : reports.length === 0 ? (
        <p className="muted panel-empty">{t("moderation.noReports")}</p>
      ) : (
        <ul className="settings-list">
          {reports.map((report) => (
            <ReportItem
              key={report.id}
              report={report}
              onRemove={() =>
                void run(
                  () => client.removeMessage(report.message.id),
                  () => {
                    showToast(t("moderation.messageRemoved"));
                    // The report's copy of the message is as it was when listed: read it again.
                    void client.listReports({ roomId: room.id, resolved: false });
                  },
                )
              }
              onResolve={() => void run(() => client.resolveReport(report.id))}
            />
          ))}
        </ul>
      )}
    </div>
  );
}

function ReportItem({ report, onRemove, onResolve }: { report: Report; onRemove: () => void; onResolve: () => void }) {
  const t = useT();
  const when = useWhen();
  const m = report.message;
  const deleted = m.deletedAt !== null;
  return (
    <li className="settings-item report" data-testid="report" data-report-id={report.id} data-message-id={m.id}>
      <div className="settings-item-text">
        <blockquote className={`report-quote${deleted ? " deleted" : ""}`}>
          <span className="report-author">{m.authorNickname}</span>
          <span className="report-body">{deleted ? t(m.removedByModerator ? "message.removedByModerator" : "message.deleted") : excerptOf(m.body, 280)}</span>
        </blockquote>
        <span className="muted small">{t("moderation.reportedBy", { name: report.reporter.nickname, time: when(report.createdAt) })}</span>
        {report.reason && <span className="small">{t("moderation.reason", { reason: report.reason })}</span>}
        {report.resolvedAt !== null && (
          <span className="muted small">
            {t("moderation.resolvedBy", { name: report.resolvedBy?.nickname ?? t("moderation.someone"), time: when(report.resolvedAt) })}
          </span>
        )}
      </div>
      {report.resolvedAt === null && (
        <div className="settings-item-actions">
          {!deleted && (
            <button type="button" className="button danger" onClick={onRemove}>
              {t("moderation.removeMessage")}
            </button>
          )}
          <button type="button" className="button primary" onClick={onResolve}>
            {t("moderation.resolve")}
          </button>
        </div>
      )}
    </li>
  );
}

/** The detail of a log entry worth showing: a reason, when there is one (the rest is in the sentence). */
function reasonOf(detail: string): string | null {
  try {
    const parsed: unknown = JSON.parse(detail);
    if (parsed && typeof parsed === "object" && "reason" in parsed && typeof parsed.reason === "string" && parsed.reason.trim() !== "") return parsed.reason;
  } catch {
    // Not JSON: nothing more to show.
  }
  return null;
}

/**
 * A log entry as a sentence. Actions that are also announced in the room (kick, ban, role, rename,
 * topic...) read like their system line when the detail carries what the line needs (a reason, the
 * new name, the role); the others, or a detail of another shape, get the log's own sentence.
 */
function logSentence(entry: AuditEntry, t: ReturnType<typeof useT>): string {
  let detail: unknown = null;
  try {
    detail = JSON.parse(entry.detail);
  } catch {
    // Not JSON: the log's own sentence.
  }
  const fields = detail !== null && typeof detail === "object" && !Array.isArray(detail) ? detail : {};
  const asEvent = { ...fields, type: entry.action, ...(entry.target ? { target: entry.target } : {}) };
  const line = { kind: "system" as const, body: JSON.stringify(asEvent), authorNickname: entry.actor.nickname };
  if (systemEventOf(line)) return systemText(line, t);
  return t(`moderation.log.${entry.action}`, { actor: entry.actor.nickname, target: entry.target?.nickname ?? t("moderation.someone") });
}

function LogPanel({ room }: { room: RoomSummary }) {
  const t = useT();
  const locale = useLocale();
  const when = useWhen();
  const client = useChatClient();
  const fetchLog = useCallback(() => client.listAudit(room.id), [client, room.id]);
  const { items, error } = useFetched<AuditEntry>(fetchLog);
  return (
    <div className="settings-list-panel">
      {error && (
        <p className="form-error" role="alert">
          {error}
        </p>
      )}
      {items === null ? (
        <p className="muted panel-empty">{t("moderation.loading")}</p>
      ) : items.length === 0 ? (
        <p className="muted panel-empty">{t("moderation.noLog")}</p>
      ) : (
        <ol className="settings-list log">
          {items.map((entry) => {
            const reason = reasonOf(entry.detail);
            const sentence = logSentence(entry, t);
            return (
              <li key={entry.id} className="settings-item log-entry" data-testid="audit-entry" data-action={entry.action}>
                <span className="settings-item-text">
                  <span>{sentence}</span>
                  {/* A ban's line already says why. */}
                  {reason && !sentence.includes(reason) && <span className="small">{t("moderation.reason", { reason })}</span>}
                  <time className="muted small" dateTime={new Date(entry.createdAt).toISOString()} title={formatFullDate(entry.createdAt, locale)}>
                    {when(entry.createdAt)}
                  </time>
                </span>
              </li>
            );
          })}
        </ol>
      )}
    </div>
  );
}
