import {
  createSharedTransport,
  electLeader,
  type LockManagerLike,
  type RelayChannel,
  type RelayMessage,
  type SharedTransport,
  type TransportFactory,
} from "@parley/client";

/**
 * One connection per browser (ADR 0017), the browser's side: the flag, the BroadcastChannels, the
 * Web Lock election, and what the tabs tell each other besides the relay (what each shows, for the
 * leader's notifications, and a sign-out).
 */

/** localStorage key of the flag: "1" on, anything else off (the default until the e2e suite proves it). */
export const SHARED_CONNECTION_KEY = "parley:shared-connection";

/**
 * Whether this browser should share one connection between its tabs: `?shared-connection=1` (or
 * `=0`) in the address sets the flag in localStorage for the whole origin; the build may turn it
 * on by default with `VITE_SHARED_CONNECTION=1`; localStorage wins over the build.
 */
export function sharedConnectionWanted(): boolean {
  try {
    const fromUrl = new URLSearchParams(window.location.search).get("shared-connection");
    if (fromUrl === "1" || fromUrl === "0") window.localStorage.setItem(SHARED_CONNECTION_KEY, fromUrl);
    const stored = window.localStorage.getItem(SHARED_CONNECTION_KEY);
    if (stored !== null) return stored === "1";
  } catch {
    // Storage disabled: the build's default decides.
  }
  return import.meta.env.VITE_SHARED_CONNECTION === "1";
}

/** Web Locks and BroadcastChannel both exist (not in older Safari, some embedded views): otherwise one socket per tab. */
export function sharedConnectionSupported(): boolean {
  return typeof BroadcastChannel === "function" && typeof navigator !== "undefined" && typeof navigator.locks?.request === "function";
}

/** What one tab shows, as the leader needs it to decide a notification for the whole browser. */
export interface TabView {
  hidden: boolean;
  activeRoomId: string | null;
}

type TabMessage =
  /** A tab's view changed (or the leader asked). */
  | { t: "view"; id: string; view: TabView }
  /** The tab's page is going away. */
  | { t: "gone"; id: string }
  /** A new leader asks every tab for its view. */
  | { t: "ask" }
  /** The user signed out in that tab: every tab signs out. */
  | { t: "signed-out" };

export interface SharedConnection {
  /** For ChatClientOptions.transport. */
  readonly transport: TransportFactory;
  /** Joins the election; call after `client.connect()`. */
  start(): void;
  isLeader(): boolean;
  /** Called when this tab becomes the leader (its socket is opening). */
  onLeader(listener: () => void): () => void;
  /** Tells the others what this tab shows now. */
  reportView(view: TabView): void;
  /** The views of the other tabs, as last reported (the leader asks for them when it takes over). */
  otherViews(): TabView[];
  /** Tells every other tab that the user signed out. */
  announceSignOut(): void;
  onSignedOutElsewhere(listener: () => void): () => void;
  /** Leaves the election (releasing the lock if held) and closes the channels. */
  stop(): void;
}

/** Wraps a BroadcastChannel as the core's RelayChannel. */
function relayChannel(bc: BroadcastChannel): RelayChannel {
  return {
    postMessage: (m: RelayMessage) => bc.postMessage(m),
    subscribe(listener) {
      const onMessage = (e: MessageEvent<RelayMessage>) => listener(e.data);
      bc.addEventListener("message", onMessage);
      return () => bc.removeEventListener("message", onMessage);
    },
  };
}

/**
 * Opens this tab's part of the shared connection for `userId`: the lock and the channels are per
 * account, so two accounts in one browser (one after the other in a tab) never share a socket.
 */
export function openSharedConnection(userId: string): SharedConnection {
  const tabId = crypto.randomUUID();
  const relay = new BroadcastChannel(`parley:relay:${userId}`);
  const tabs = new BroadcastChannel(`parley:tabs:${userId}`);
  let transport: SharedTransport | null = null;
  let election: { stop(): void } | null = null;
  let leader = false;
  let myView: TabView | null = null;
  const views = new Map<string, TabView>();
  const leaderListeners = new Set<() => void>();
  const signOutListeners = new Set<() => void>();

  const post = (m: TabMessage) => tabs.postMessage(m);
  tabs.addEventListener("message", (e: MessageEvent<TabMessage>) => {
    const m = e.data;
    switch (m.t) {
      case "view":
        views.set(m.id, m.view);
        return;
      case "gone":
        views.delete(m.id);
        return;
      case "ask":
        if (myView) post({ t: "view", id: tabId, view: myView });
        return;
      case "signed-out":
        for (const l of signOutListeners) l();
        return;
    }
  });
  // A closed or reloaded tab stops counting as a view at once (a crashed one lingers until the
  // next leader asks again, which at worst means one notification the old rules would also show).
  // A leader also lets go of the lock here rather than when the browser tears the page down, which
  // comes later (a few hundred ms measured): the next tab starts its socket that much sooner. Not
  // when the page may come back from the back/forward cache (`persisted`): it would return as a
  // leader without the lock.
  const onPageHide = (event: PageTransitionEvent) => {
    post({ t: "gone", id: tabId });
    if (!event.persisted) election?.stop();
  };
  window.addEventListener("pagehide", onPageHide);

  return {
    transport: (ctx, options) => (transport = createSharedTransport(ctx, { ...options, channel: relayChannel(relay), tabId })),
    start() {
      if (election) return;
      election = electLeader(navigator.locks as unknown as LockManagerLike, `parley:leader:${userId}`, () => {
        leader = true;
        transport?.promote();
        views.clear();
        post({ t: "ask" });
        for (const l of leaderListeners) l();
      });
    },
    isLeader: () => leader,
    onLeader(listener) {
      leaderListeners.add(listener);
      return () => void leaderListeners.delete(listener);
    },
    reportView(view) {
      myView = view;
      post({ t: "view", id: tabId, view });
    },
    otherViews: () => [...views.values()],
    announceSignOut: () => post({ t: "signed-out" }),
    onSignedOutElsewhere(listener) {
      signOutListeners.add(listener);
      return () => void signOutListeners.delete(listener);
    },
    stop() {
      election?.stop();
      window.removeEventListener("pagehide", onPageHide);
      post({ t: "gone", id: tabId });
      relay.close();
      tabs.close();
    },
  };
}
