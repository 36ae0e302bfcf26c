import { createChatClient, type ChatClient } from "@parley/client";
import { DEFAULT_ROOM_ID, type User } from "@parley/shared";
import { createStore } from "zustand/vanilla";
import { fetchMe, login, logout, logoutEverywhere } from "./auth-api.js";
import { installNotifications } from "./notifications.js";
import { createLocalStorageOutbox } from "./outbox-storage.js";
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

function start(user: User): void {
  const client = createChatClient({ outbox: createLocalStorageOutbox(user.id), uploads: createXhrUploadTransport() });
  const stopNotifications = installNotifications(client);
  const stopPreviews = installPreviewSweeper(client);
  const stopAuthWatch = client.store.subscribe((state) => {
    // The cookie expired or was revoked (signed out in another tab): back to the sign-in screen.
    if (state.connection.error === "UNAUTHENTICATED") end("UNAUTHENTICATED");
  });
  teardown = () => {
    stopAuthWatch();
    stopNotifications();
    client.disconnect();
    stopPreviews();
  };
  session.setState({ status: "signed-in", user, client }, true);
  client.connect();
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
  if (result.ok) end(null);
  return result;
}
