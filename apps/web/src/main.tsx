import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import { followLocaleAcrossTabs, getLocale, setLocale, startingLocale } from "./i18n/index.js";
import "./styles/base.css";
import "./styles/app.css";

const root = document.getElementById("root");
if (!root) throw new Error("#root missing from index.html");

followLocaleAcrossTabs();
// A dictionary other than English is a chunk of its own: the first render waits for it, so a
// Chinese reader never sees the UI in English first (a blank page for one small request instead).
// setLocale never rejects: if the chunk cannot load, the app starts in English.
void setLocale(startingLocale()).then(() => {
  document.documentElement.lang = getLocale();
  createRoot(root).render(
    <StrictMode>
      <App />
    </StrictMode>,
  );
});
