/**
 * The bare Socket.IO server the benches compare Parley with (issue 15): `new Server(httpServer)`
 * with its defaults and nothing of Parley's (no auth, storage, rooms or presence), plus `/healthz`
 * so the bench's process helper can tell when it is up. `--broadcast` makes it the Socket.IO chat
 * tutorial: every `message:send` is `io.emit`ted to everyone as `message:created`.
 */
import { createServer } from "node:http";
import { Server } from "socket.io";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const broadcast = process.argv.includes("--broadcast");

const http = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  res.writeHead(404).end();
});
const io = new Server(http);
if (broadcast) {
  io.on("connection", (socket) => {
    socket.on("message:send", (payload: unknown, ack?: unknown) => {
      io.emit("message:created", payload);
      if (typeof ack === "function") (ack as (r: unknown) => void)({ ok: true, data: null });
    });
  });
}
http.listen(port, host);
process.on("SIGTERM", () => {
  io.close();
  process.exit(0);
});
