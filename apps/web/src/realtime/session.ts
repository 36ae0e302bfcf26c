import { createChatClient, type ChatClient } from "@parley/client";
import { DEFAULT_ROOM_ID, type User } from "@parley/shared";
import { createStore } from "zustand/vanilla";
import { fetchMe, login, logout, logoutEverywhere } from "./auth-api.js";
import { installNotifications } from "./notifications.js";
import { createLocalStorageOutbox } from "./outbox-storage.js";
import { openSharedConnection, sharedConnectionSupported, sharedConnectionWanted, type SharedConnection } from "./shared-connection.js";
import { installPreviewSweeper } from "./upload-previews.js";
import { createXhrUploadTransport } from "./xhr-upload.js";

/**
 * The browser session: who is signed in and the one ChatClient for this tab. A module-level store
 * rather than React state, so the client is created exactly once per sign-in (React StrictMode
 * mounts effects twice, and `disconnect()` is final) and the socket layer can end the session
 * (UNAUTHENTICATED) without going through components.
 */
export type SessionState =
  | { status: "loading" }
  | { status: "signed-out"; reason: string | null }
  | { status: "signed-in"; user: User; client: ChatClient };

export const session = createStore<SessionState>(() => ({ status: "loading" }));

let teardown: (() => void) | null = null;
/** This tab's part of the one connection per browser, while signed in with the flag on (ADR 0017). */
let shared: SharedConnection | null = null;

function start(user: User): void {
  // Without Web Locks or BroadcastChannel a tab cannot find or reach a leader: its own socket, as before.
  const connection = sharedConnectionWanted() && sharedConnectionSupported() ? openSharedConnection(user.id) : null;
  shared = connection;
  const client = createChatClient({
    outbox: createLocalStorageOutbox(user.id),
    uploads: createXhrUploadTransport(),
    // The leader tries a websocket first (polling if that fails): a takeover is then one round
    // trip shorter than Socket.IO's default polling handshake and upgrade.
    ...(connection ? { transport: connection.transport, socketOptions: { transports: ["websocket", "polling"], tryAllTransports: true } } : {}),
  });
  const stopNotifications = installNotifications(client, connection);
  // Signed out in another tab: this one follows at once, without waiting for the server to say so.
  const stopSignOutWatch = connection?.onSignedOutElsewhere(() => end(null));
  const stopPreviews = installPreviewSweeper(client);
  const stopAuthWatch = client.store.subscribe((state) => {
    // The cookie expired or was revoked (signed out in another tab): back to the sign-in screen.
    if (state.connection.error === "UNAUTHENTICATED") end("UNAUTHENTICATED");
  });
  teardown = () => {
    stopAuthWatch();
    stopSignOutWatch?.();
    stopNotifications();
    client.disconnect();
    // After the socket closed: the lock goes to the next tab, which opens its own.
    connection?.stop();
    if (shared === connection) shared = null;
    stopPreviews();
  };
  session.setState({ status: "signed-in", user, client }, true);
  client.connect();
  connection?.start();
  client.setActiveRoom(DEFAULT_ROOM_ID);
}

function end(reason: string | null): void {
  const stop = teardown;
  teardown = null;
  stop?.();
  session.setState({ status: "signed-out", reason }, true);
}

/** On load: resume the cookie session if there is one. */
export async function bootstrapSession(): Promise<void> {
  if (session.getState().status !== "loading") return;
  try {
    const user = await fetchMe();
    if (session.getState().status !== "loading") return;
    if (user) start(user);
    else end(null);
  } catch {
    end("NETWORK");
  }
}

/** Signs in (or creates the account). Resolves with an error code for the form to show. */
export async function signIn(nickname: string, password: string): Promise<{ ok: true } | { ok: false; code: string; message: string }> {
  const result = await login(nickname, password);
  if (!result.ok) return result;
  end(null);
  start(result.user);
  return { ok: true };
}

/** Signs out: ends the server session, closes the socket, shows the sign-in screen. */
export async function signOut(): Promise<void> {
  shared?.announceSignOut();
  end(null);
  await logout();
}

/**
 * "Sign out everywhere": the server ends every session of the account and closes their sockets
 * (other tabs and devices see UNAUTHENTICATED). This tab signs out only once the server agreed;
 * otherwise it stays signed in and the error code is returned for the menu to show.
 */
export async function signOutEverywhere(): Promise<{ ok: true } | { ok: false; code: string }> {
  const result = await logoutEverywhere();
  if (result.ok) {
    shared?.announceSignOut();
    end(null);
  }
  return result;
}
