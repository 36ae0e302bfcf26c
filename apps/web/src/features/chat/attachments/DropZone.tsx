import { useEffect, useRef, useState, type DragEvent, type ReactNode } from "react";
import { useLocale, useT } from "../../../i18n/index.js";
import { useChatClient } from "../../../store/client-context.js";
import { useChat } from "../../../store/hooks.js";
import { UploadIcon } from "../../../ui/icons.js";
import { useChatUiStore } from "../chat-ui.js";
import { attachFiles } from "./attach.js";
import { formatBytes } from "./attachment-layout.js";

/** Files being dragged (not text or a link dragged out of the page). */
const carriesFiles = (e: { dataTransfer: DataTransfer | null }): boolean => e.dataTransfer?.types.includes("Files") ?? false;

/**
 * The room view as a drop target: files dragged over it show an overlay naming the room, and
 * dropped they are attached to the composer (and start uploading), as in every chat app.
 */
export function DropZone({ roomId, roomLabel, children }: { roomId: string; roomLabel: string; children: ReactNode }) {
  const t = useT();
  const locale = useLocale();
  const client = useChatClient();
  const ui = useChatUiStore();
  const maxBytes = useChat((s) => s.uploadLimits?.fileMaxBytes ?? null);
  const [over, setOver] = useState(false);
  // dragenter/dragleave fire for every child crossed: the overlay goes when the count is back to 0.
  const depth = useRef(0);

  // A file dropped anywhere else on the page (the sidebar, a gap) would make the browser leave the
  // app to show it: refused there.
  useEffect(() => {
    const refuse = (e: globalThis.DragEvent) => {
      if (carriesFiles(e)) e.preventDefault();
    };
    window.addEventListener("dragover", refuse);
    window.addEventListener("drop", refuse);
    return () => {
      window.removeEventListener("dragover", refuse);
      window.removeEventListener("drop", refuse);
    };
  }, []);

  const enter = (e: DragEvent<HTMLDivElement>) => {
    if (!carriesFiles(e)) return;
    e.preventDefault();
    depth.current++;
    setOver(true);
  };
  const leave = (e: DragEvent<HTMLDivElement>) => {
    if (!carriesFiles(e)) return;
    depth.current = Math.max(0, depth.current - 1);
    if (depth.current === 0) setOver(false);
  };
  return (
    <div
      className={`chat-view${over ? " dragging" : ""}`}
      onDragEnter={enter}
      onDragLeave={leave}
      onDragOver={(e) => {
        if (!carriesFiles(e)) return;
        // Without this the drop is not allowed; "copy" shows the + cursor.
        e.preventDefault();
        e.dataTransfer.dropEffect = "copy";
      }}
      onDrop={(e) => {
        if (!carriesFiles(e)) return;
        e.preventDefault();
        depth.current = 0;
        setOver(false);
        ui.getState().setFileNotice(attachFiles(client, roomId, [...e.dataTransfer.files], locale));
        ui.setState((s) => ({ focusComposer: s.focusComposer + 1 }));
      }}
      data-testid="chat-view"
    >
      {children}
      {over && (
        <div className="drop-overlay" data-testid="drop-overlay" aria-hidden="true">
          <div className="drop-overlay-card">
            <span className="drop-overlay-icon">
              <UploadIcon size={28} />
            </span>
            <strong>{t("files.dropTitle", { room: roomLabel })}</strong>
            <span>{maxBytes === null ? t("files.dropHintNoLimit") : t("files.dropHint", { max: formatBytes(maxBytes, locale) })}</span>
          </div>
        </div>
      )}
    </div>
  );
}
