/**
 * The fastest fan-out a Node.js process does over WebSockets, as the bar `pnpm bench:load --compare`
 * holds Parley to (issue 15): a `ws` server that speaks just enough Engine.IO v4 / Socket.IO v5 for
 * the bench's clients (the open packet, CONNECT, pings, an event with an ack), and broadcasts each
 * `message:send` to every client as `message:created` with no auth, validation, storage or rooms.
 *
 * Per broadcast it builds the frame once (`Sender.frame`) and writes the same buffers to every
 * socket, each socket corked on its first write of the event-loop turn and uncorked once per turn
 * (as Parley's realtime/cork.ts does), so a turn's frames leave in one syscall per socket. No JSON is
 * parsed: the event is recognised and rewritten by its prefix.
 */
import { createServer } from "node:http";
import type { Socket as NetSocket } from "node:net";
import * as ws from "ws";
import { WebSocketServer, type WebSocket } from "ws";

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? "127.0.0.1";
const PING_INTERVAL_MS = 25_000;
const OPEN = `0${JSON.stringify({ sid: "raw", upgrades: [], pingInterval: PING_INTERVAL_MS, pingTimeout: 20_000, maxPayload: 1_000_000 })}`;
const SEND_PREFIX = '["message:send",';
const CREATED_PREFIX = '42["message:created",';

const http = createServer((req, res) => {
  if (req.url === "/healthz") {
    res.writeHead(200, { "content-type": "application/json" }).end('{"status":"ok"}');
    return;
  }
  res.writeHead(404).end();
});
const wss = new WebSocketServer({ server: http, path: "/socket.io/", perMessageDeflate: false });

/** The TCP socket under a `ws` WebSocket (internal, as in cork.ts). */
const tcpOf = (ws: WebSocket) => (ws as unknown as { _socket: NetSocket })._socket;

let corked: NetSocket[] = [];
let uncorkScheduled = false;
function writeCorked(ws: WebSocket, frame: readonly Buffer[]): void {
  const tcp = tcpOf(ws);
  if (!tcp || tcp.destroyed) return;
  if (tcp.writableCorked === 0) {
    tcp.cork();
    corked.push(tcp);
    if (!uncorkScheduled) {
      uncorkScheduled = true;
      setImmediate(() => {
        uncorkScheduled = false;
        const sockets = corked;
        corked = [];
        for (const s of sockets) s.uncork();
      });
    }
  }
  for (const b of frame) tcp.write(b);
}

/**
 * `ws`'s own framing (`Sender.frame`, exported by ws 8 but not declared by @types/ws): a text frame,
 * unmasked (server to client), built once and written to every socket.
 */
const { Sender } = ws as unknown as { Sender: { frame(data: Buffer, options: Record<string, unknown>): Buffer[] } };
const textFrame = (text: string): Buffer[] => Sender.frame(Buffer.from(text), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: false });

wss.on("connection", (socket) => {
  writeCorked(socket, textFrame(OPEN));
  socket.on("message", (data, isBinary) => {
    if (isBinary) return;
    const text = data.toString();
    if (text.startsWith("40")) {
      writeCorked(socket, textFrame('40{"sid":"raw"}'));
    } else if (text.startsWith("42")) {
      // 42<ack id>["message:send",{…}]: the ack id's digits run up to the array.
      const open = text.indexOf("[");
      if (open < 0 || !text.startsWith(SEND_PREFIX, open)) return;
      const ackId = text.slice(2, open);
      const frame = textFrame(CREATED_PREFIX + text.slice(open + SEND_PREFIX.length));
      for (const client of wss.clients) writeCorked(client, frame);
      if (ackId) writeCorked(socket, textFrame(`43${ackId}[{"ok":true,"data":null}]`));
    }
  });
});

const pings = setInterval(() => {
  const frame = textFrame("2");
  for (const client of wss.clients) writeCorked(client, frame);
}, PING_INTERVAL_MS);
pings.unref();

http.listen(port, host);
process.on("SIGTERM", () => {
  wss.close();
  process.exit(0);
});
