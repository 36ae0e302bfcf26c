import { useEffect } from "react";
import { useStore } from "zustand";
import { ChatShell } from "./features/chat/ChatShell.js";
import { SignInScreen } from "./features/auth/SignInScreen.js";
import { useT } from "./i18n/index.js";
import { bootstrapSession, session } from "./realtime/session.js";

/** Loading -> sign-in or chat, driven by the session store. */
export function App() {
  const t = useT();
  const state = useStore(session);

  useEffect(() => {
    void bootstrapSession();
  }, []);

  switch (state.status) {
    case "loading":
      return (
        <div className="splash" role="status">
          <span className="spinner" />
          {t("app.loading")}
        </div>
      );
    case "signed-out":
      return <SignInScreen reason={state.reason} />;
    case "signed-in":
      return <ChatShell key={state.user.id} client={state.client} user={state.user} />;
  }
}
