import { describe, expect, it } from "vitest";
import { createScrollAnchor, rowAt, type ListLayout, type RowBox } from "../src/features/chat/scroll-anchor.js";

/** Rows keyed by seq, each `height` px tall, starting at `top`. */
function rows(from: number, to: number, height = 50, top = 0): RowBox[] {
  const out: RowBox[] = [];
  for (let seq = from, start = top; seq <= to; seq++, start += height) out.push({ key: `m${seq}`, start, end: start + height });
  return out;
}

const VIEWPORT = 500;

function layout(list: RowBox[], scrollTop: number): ListLayout {
  const total = list.length > 0 ? list[list.length - 1]!.end : 0;
  return { rows: list, scrollTop, maxScrollTop: Math.max(0, total - VIEWPORT) };
}

/** What the element does with a restore: scrollTop becomes the target (clamped like a browser). */
function applyRestore(anchor: ReturnType<typeof createScrollAnchor>, l: ListLayout): ListLayout {
  const target = anchor.restore(l);
  return target === null ? l : { ...l, scrollTop: target };
}

const at = (anchor: ReturnType<typeof createScrollAnchor>) => (anchor.atBottom ? "bottom" : "reading");

describe("rowAt", () => {
  const list = rows(1, 10);
  it.each([
    [0, 0],
    [49, 0],
    [50, 1],
    [499, 9],
    [10_000, 9],
  ])("offset %i is in row %i", (offset, index) => expect(rowAt(list, offset)).toBe(index));

  it("a gap before the first row (list padding) belongs to the first row; none in an empty list", () => {
    expect(rowAt(rows(1, 3, 50, 72), 10)).toBe(0);
    expect(rowAt([], 10)).toBe(-1);
  });
});

describe("createScrollAnchor: following the bottom", () => {
  const cases: { name: string; next: RowBox[] }[] = [
    { name: "messages appended", next: rows(1, 30) },
    { name: "a 300-message catch-up appended", next: rows(1, 320) },
    { name: "the window trimmed at the top while messages are appended", next: rows(15, 40) },
    { name: "the window replaced by the latest page", next: rows(500, 700) },
    { name: "rows measured taller than their estimates", next: rows(1, 20, 80) },
    { name: "the list shrank below the viewport", next: rows(1, 3) },
  ];
  for (const c of cases) {
    it(`stays at the bottom: ${c.name}`, () => {
      const anchor = createScrollAnchor({ bottomThreshold: 48 });
      let l = applyRestore(anchor, layout(rows(1, 20), 0));
      expect(l.scrollTop).toBe(l.maxScrollTop);
      l = applyRestore(anchor, layout(c.next, l.scrollTop));
      expect(l.scrollTop).toBe(l.maxScrollTop);
      expect(at(anchor)).toBe("bottom");
    });
  }

  it("ignores the scroll events its own writes cause, whatever position they report", () => {
    const anchor = createScrollAnchor({ bottomThreshold: 48 });
    const l = applyRestore(anchor, layout(rows(1, 100), 0));
    // The echo of the write arrives after the list grew again: still ours, still following.
    anchor.scrolled({ ...layout(rows(1, 200), l.scrollTop) }, true);
    expect(at(anchor)).toBe("bottom");
  });

  it("a transient scroll position (a re-render clamping scrollTop) does not leave the bottom while at the end", () => {
    const anchor = createScrollAnchor({ bottomThreshold: 48 });
    applyRestore(anchor, layout(rows(1, 100), 0));
    // The content briefly shrank: the browser clamped scrollTop to the new end and fired an event.
    anchor.scrolled(layout(rows(1, 5), 0), true);
    expect(at(anchor)).toBe("bottom");
  });

  it("a small nudge up stays following; scrolling up further reads", () => {
    const anchor = createScrollAnchor({ bottomThreshold: 48 });
    const l = applyRestore(anchor, layout(rows(1, 100), 0));
    anchor.scrolled({ ...l, scrollTop: l.maxScrollTop - 30 }, true);
    expect(at(anchor)).toBe("bottom");
    anchor.scrolled({ ...l, scrollTop: l.maxScrollTop - 300 }, true);
    expect(at(anchor)).toBe("reading");
  });

  it("reports each flip to subscribers once", () => {
    const anchor = createScrollAnchor({ bottomThreshold: 48 });
    const flips: boolean[] = [];
    anchor.subscribe((b) => flips.push(b));
    const l = layout(rows(1, 100), 1000);
    anchor.scrolled(l, true);
    anchor.scrolled({ ...l, scrollTop: 900 }, true);
    anchor.scrolled({ ...l, scrollTop: l.maxScrollTop }, true);
    anchor.stickToBottom();
    expect(flips).toEqual([false, true]);
  });
});

describe("createScrollAnchor: reading back", () => {
  /** A reader whose viewport top is 20 px into message 40 of 1-100. */
  function reading() {
    const anchor = createScrollAnchor({ bottomThreshold: 48 });
    const start = rows(1, 100);
    anchor.scrolled(layout(start, 39 * 50 + 20), true);
    expect(anchor.mode).toMatchObject({ kind: "reading", key: "m40", offset: 20 });
    return anchor;
  }
  const topOf = (l: ListLayout, key: string) => l.rows.find((r) => r.key === key)!.start - l.scrollTop;

  const cases: { name: string; next: RowBox[] }[] = [
    { name: "messages appended below", next: rows(1, 400) },
    { name: "an older page prepended", next: rows(-199, 100) },
    { name: "the oldest end trimmed", next: rows(30, 400) },
    { name: "the top padding appearing (paddingStart)", next: rows(1, 100, 50, 72) },
    { name: "rows above measured taller", next: [...rows(1, 39, 90), ...rows(40, 100, 50, 39 * 90)] },
  ];
  for (const c of cases) {
    it(`stays on the same message: ${c.name}`, () => {
      const anchor = reading();
      const l = applyRestore(anchor, layout(c.next, 39 * 50 + 20));
      expect(topOf(l, "m40")).toBe(-20);
      expect(at(anchor)).toBe("reading");
    });
  }

  it("holds the message where it was when its row is gone (window replaced) instead of jumping", () => {
    const anchor = reading();
    const next = rows(500, 700);
    expect(anchor.restore(layout(next, 1970))).toBeNull();
    // And re-anchors on what is under the view now.
    expect(anchor.mode).toMatchObject({ kind: "reading", key: "m539" });
  });

  it("reaching the end of a trimmed window keeps reading (the next page loads below); the live end follows", () => {
    const anchor = reading();
    const l = layout(rows(1, 100), 0);
    anchor.scrolled({ ...l, scrollTop: l.maxScrollTop }, false);
    expect(at(anchor)).toBe("reading");
    anchor.scrolled({ ...l, scrollTop: l.maxScrollTop - 1 }, true);
    expect(at(anchor)).toBe("bottom");
  });

  it("Jump to latest follows again", () => {
    const anchor = reading();
    anchor.stickToBottom();
    const l = applyRestore(anchor, layout(rows(1, 300), 1000));
    expect(l.scrollTop).toBe(l.maxScrollTop);
  });
});

describe("hold (jumping to a reply's original)", () => {
  it("centres the row, keeps it there when its height is measured and pages arrive, and stops following", () => {
    const anchor = createScrollAnchor({ bottomThreshold: 48 });
    const flips: boolean[] = [];
    anchor.subscribe((b) => flips.push(b));
    let l = applyRestore(anchor, layout(rows(1, 100), 0));
    expect(l.scrollTop).toBe(4500);
    // m40 starts at 1950; centred in a 500 px viewport: its top 225 px below the viewport's top.
    anchor.hold("m40", -225);
    expect(at(anchor)).toBe("reading");
    expect(flips).toEqual([false]);
    l = applyRestore(anchor, l);
    expect(l.scrollTop).toBe(1950 - 225);
    // A page of 50 older rows arrives above: the row keeps its place in the viewport.
    l = applyRestore(anchor, { ...layout([...rows(-49, 0), ...rows(1, 100, 50, 2500)], l.scrollTop) });
    expect(l.scrollTop).toBe(2500 + 1950 - 225);
  });

  it("clamps at the top of the list (the original is the room's first message)", () => {
    const anchor = createScrollAnchor({ bottomThreshold: 48 });
    const l = applyRestore(anchor, layout(rows(1, 100), 0));
    anchor.hold("m1", -225);
    expect(applyRestore(anchor, l).scrollTop).toBe(0);
  });
});
