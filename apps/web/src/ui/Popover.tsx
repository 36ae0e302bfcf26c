import { useEffect, useLayoutEffect, useRef, useState, type ReactNode } from "react";
import { createPortal } from "react-dom";

/** Gap (px) between the anchor and the popover, and the least distance kept from the window edge. */
const GAP = 6;
const MARGIN = 8;

/**
 * A small non-modal popover next to `anchor`, rendered into <body> with fixed positioning: inside
 * the message list it would be clipped by the scroller and painted under the next virtual row
 * (each row's transform is its own stacking context). Above the anchor when it fits, else below;
 * aligned to the anchor's right edge, following it when the page behind scrolls. Escape, a click
 * outside, tabbing out or the anchor scrolling out of sight closes it; Escape gives focus back to
 * the anchor.
 */
export function Popover({
  anchor,
  label,
  onClose,
  className,
  children,
}: {
  anchor: HTMLElement;
  label: string;
  onClose: () => void;
  className?: string;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  const [pos, setPos] = useState<{ top: number; left: number } | null>(null);
  const onCloseRef = useRef(onClose);
  onCloseRef.current = onClose;

  // Placed after its size is known (content that grows, such as the emoji list arriving, re-places it).
  useLayoutEffect(() => {
    const el = ref.current;
    if (!el) return;
    const place = () => {
      const a = anchor.getBoundingClientRect();
      const { width, height } = el.getBoundingClientRect();
      const above = a.top - GAP - height;
      const top = above >= MARGIN ? above : Math.min(a.bottom + GAP, window.innerHeight - MARGIN - height);
      const left = Math.min(Math.max(MARGIN, a.right - width), window.innerWidth - MARGIN - width);
      setPos((p) => (p && p.top === top && p.left === left ? p : { top, left }));
    };
    place();
    const observer = new ResizeObserver(place);
    observer.observe(el);
    // The list scrolls under it (the reader, or new messages arriving while following): it moves
    // with its anchor, and closes once the anchor is out of sight.
    const onScroll = (e: Event) => {
      if (e.target instanceof Node && el.contains(e.target)) return;
      const a = anchor.getBoundingClientRect();
      if (!anchor.isConnected || a.bottom < 0 || a.top > window.innerHeight) onCloseRef.current();
      else place();
    };
    window.addEventListener("resize", place);
    window.addEventListener("scroll", onScroll, true);
    return () => {
      observer.disconnect();
      window.removeEventListener("resize", place);
      window.removeEventListener("scroll", onScroll, true);
    };
  }, [anchor]);

  useEffect(() => {
    const el = ref.current;
    const inside = (target: EventTarget | null) => target instanceof Node && (el?.contains(target) || anchor.contains(target));
    const onPointerDown = (e: PointerEvent) => {
      if (!inside(e.target)) onCloseRef.current();
    };
    const onKeyDown = (e: KeyboardEvent) => {
      if (e.key !== "Escape") return;
      e.preventDefault();
      e.stopPropagation();
      onCloseRef.current();
      anchor.focus();
    };
    document.addEventListener("pointerdown", onPointerDown, true);
    document.addEventListener("keydown", onKeyDown, true);
    return () => {
      document.removeEventListener("pointerdown", onPointerDown, true);
      document.removeEventListener("keydown", onKeyDown, true);
    };
  }, [anchor]);

  return createPortal(
    <div
      ref={ref}
      role="dialog"
      aria-label={label}
      className={`popover${className ? ` ${className}` : ""}`}
      // Unplaced: transparent, not hidden, so that focus can move into it on the first render.
      style={pos ? { top: pos.top, left: pos.left } : { top: 0, left: 0, opacity: 0 }}
      onBlur={(e) => {
        // Tabbing out closes it (a click outside is handled by the pointerdown listener).
        const next = e.relatedTarget;
        if (next instanceof Node && !e.currentTarget.contains(next) && !anchor.contains(next)) onClose();
      }}
    >
      {children}
    </div>,
    document.body,
  );
}
