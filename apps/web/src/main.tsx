import { StrictMode } from "react";
import { createRoot } from "react-dom/client";
import { App } from "./App.js";
import { followLocaleAcrossTabs, getLocale } from "./i18n/index.js";
import "./styles/base.css";
import "./styles/app.css";

document.documentElement.lang = getLocale();
followLocaleAcrossTabs();

const root = document.getElementById("root");
if (!root) throw new Error("#root missing from index.html");
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
