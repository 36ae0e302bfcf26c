import { createReadStream } from "node:fs";
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import react from "@vitejs/plugin-react";
import { defineConfig, type Plugin } from "vite";

/** The API server the dev server proxies to; `PARLEY_SERVER_PORT` lets e2e run on a free port. */
const serverTarget = `http://127.0.0.1:${process.env.PARLEY_SERVER_PORT ?? 3000}`;

/** Where the emoji picker fetches its data from (see `features/chat/reactions/EmojiPicker.tsx`). */
const EMOJI_BASE = "emojibase";
/** The data of the UI's locales (emojibase's names: "zh" is Simplified Chinese); a new locale adds its directory here. */
const EMOJI_FILES = ["en/data.json", "en/messages.json", "zh/data.json", "zh/messages.json"];

/**
 * Serves `emojibase-data`'s JSON from our own origin. The picker (frimousse) fetches it from
 * jsDelivr by default, which the CSP (`connect-src 'self'`, apps/server/src/http/security.ts)
 * refuses, and a chat should not tell a CDN when its users open a picker. The files are emitted
 * as-is (about 120 kB gzip, fetched once when the picker first opens, then cached by frimousse in
 * localStorage), never bundled into JavaScript.
 */
function emojiData(): Plugin {
  const require = createRequire(import.meta.url);
  const pathOf = (file: string) => require.resolve(`emojibase-data/${file}`);
  return {
    name: "parley-emojibase-data",
    configureServer(server) {
      server.middlewares.use((req, res, next) => {
        const file = EMOJI_FILES.find((f) => req.url?.split("?")[0] === `/${EMOJI_BASE}/${f}`);
        if (!file) return next();
        res.setHeader("Content-Type", "application/json");
        createReadStream(pathOf(file)).pipe(res);
      });
    },
    async generateBundle() {
      for (const file of EMOJI_FILES) {
        this.emitFile({ type: "asset", fileName: `${EMOJI_BASE}/${file}`, source: await readFile(pathOf(file)) });
      }
    },
  };
}

export default defineConfig({
  plugins: [react(), emojiData()],
  server: {
    port: 5173,
    strictPort: true,
    proxy: {
      "/api": { target: serverTarget, changeOrigin: false },
      // ws: true so the Socket.IO WebSocket upgrade is proxied too, not only long-polling.
      "/socket.io": { target: serverTarget, ws: true, changeOrigin: false },
    },
  },
  preview: { port: 4173 },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    sourcemap: true,
    rolldownOptions: {
      output: {
        codeSplitting: {
          // Everything the entry imports statically (`$initial`) in one chunk. Left alone, Rolldown
          // splits the modules a lazy chunk shares with the entry (the store, the client core,
          // en.ts) into common chunks that index.html preloads anyway: more requests, and gzip
          // compresses the parts worse than the whole (issue 15's budget counted 3 kB more).
          groups: [{ name: "app", tags: ["$initial"] }],
        },
      },
    },
  },
});
