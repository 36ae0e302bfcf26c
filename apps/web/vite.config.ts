import react from "@vitejs/plugin-react";
import { defineConfig } from "vite";

/** The API server the dev server proxies to; `PARLEY_SERVER_PORT` lets e2e run on a free port. */
const serverTarget = `http://127.0.0.1:${process.env.PARLEY_SERVER_PORT ?? 3000}`;

export default defineConfig({
  plugins: [react()],
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
  },
});
