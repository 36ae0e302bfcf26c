import { afterEach, describe, expect, it } from "vitest";
import { API, DEFAULT_ROOM_ID } from "@parley/shared";
import type { Logger } from "../../src/logger.js";
import { pinoLogger } from "../../src/observability/log.js";
import { SqliteStorage } from "../../src/storage/sqlite/sqlite-storage.js";
import type { NewMessage } from "../../src/storage/storage.js";
import { closeAllSockets, connect, request, signIn, startServer, text, type TestServer } from "../helpers/server.js";
import { waitFor } from "../helpers/wait.js";

/** A pino logger whose JSON lines land in `lines` instead of stdout. */
function capturingLogger(): { logger: Logger; lines: string[]; parsed: () => Array<Record<string, unknown>> } {
  const lines: string[] = [];
  const logger = pinoLogger({ level: "trace", destination: { write: (line: string) => void lines.push(line) } });
  return { logger, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
}

/** Fails the sends of one body and the sign-ins of one nickname, so that error lines get written. */
class FailingStorage extends SqliteStorage {
  override async appendMessage(input: NewMessage) {
    if (input.body === "fail this one") throw new Error("disk on fire");
    return super.appendMessage(input);
  }
  override async findUserByNickname(nickname: string) {
    if (nickname === "Broken") throw new Error("index on fire");
    return super.findUserByNickname(nickname);
  }
}

let server: TestServer | undefined;
afterEach(async () => {
  closeAllSockets();
  await server?.stop();
  server = undefined;
});

describe("structured logs", () => {
  it("never contain a sign-in's password or the session cookie", async () => {
    const { logger, lines } = capturingLogger();
    server = await startServer({ logger, app: { accessLog: true }, openStorage: (path) => new FailingStorage(path) });
    const password = "correct-horse-battery-staple";
    const signedIn = await signIn(server.url, "Alice", password);
    expect(signedIn.status).toBe(200);
    const token = signedIn.cookie.split("=")[1]!;
    expect(token.length).toBeGreaterThan(10);

    // Every path that writes a line with the secrets at hand: a wrong password, a sign-in the
    // storage fails (an error line), a socket with the cookie, a send the storage fails, sign-out.
    expect((await signIn(server.url, "Alice", "wrong-password-123")).status).toBe(401);
    expect((await signIn(server.url, "Broken", password)).status).toBe(500);
    const socket = await connect(server.url, signedIn.cookie);
    const failed = await request(socket, "message:send", text(DEFAULT_ROOM_ID, "fail this one"));
    expect(failed).toMatchObject({ ok: false, error: { code: "INTERNAL" } });
    await fetch(`${server.url}${API.me}`, { headers: { cookie: signedIn.cookie, authorization: `Bearer ${token}` } });
    await fetch(`${server.url}${API.logout}`, { method: "POST", headers: { cookie: signedIn.cookie, origin: server.url } });

    await waitFor(() => expect(lines.some((l) => l.includes("message:send failed"))).toBe(true));
    const output = lines.join("");
    expect(output).toContain("login failed");
    expect(output).toContain(`POST ${API.login} 200`);
    expect(output).not.toContain(password);
    expect(output).not.toContain(token);
    expect(output).not.toContain("wrong-password-123");
  });

  it("redacts secrets that a future log call might pass in an object", () => {
    const { logger, lines } = capturingLogger();
    logger.error("request failed", new Error("boom"), {
      password: "hunter2-hunter2",
      headers: { cookie: "parley_session=s3cr3t", authorization: "Bearer t0k3n" },
      req: { headers: { cookie: "parley_session=s3cr3t2" }, handshake: { auth: { token: "t0k3n2" } } },
    });
    logger.info("socket", { handshake: { headers: { cookie: "parley_session=s3cr3t3" } } });
    const output = lines.join("");
    for (const secret of ["hunter2", "s3cr3t", "t0k3n"]) expect(output).not.toContain(secret);
    expect(output).toContain("[redacted]");
    expect(output).toContain("boom");
  });

  it("give every HTTP request an id (a sane X-Request-Id is kept) and put it on the request's lines", async () => {
    const { logger, parsed } = capturingLogger();
    server = await startServer({ logger, app: { accessLog: true }, openStorage: (path) => new FailingStorage(path) });

    const kept = await fetch(`${server.url}${API.health}`, { headers: { "x-request-id": "lb-1234.abc" } });
    expect(kept.headers.get("x-request-id")).toBe("lb-1234.abc");
    const replaced = await fetch(`${server.url}${API.health}`, { headers: { "x-request-id": `bad id "quoted" ${"x".repeat(200)}` } });
    const generated = replaced.headers.get("x-request-id");
    expect(generated).toMatch(/^[0-9a-f-]{36}$/);

    const broken = await fetch(`${server.url}${API.login}`, {
      method: "POST",
      headers: { "content-type": "application/json", "x-request-id": "req-broken" },
      body: JSON.stringify({ nickname: "Broken", password: "password123" }),
    });
    expect(broken.status).toBe(500);
    const lines = parsed();
    expect(lines.find((l) => l["reqId"] === "lb-1234.abc")?.["msg"]).toMatch(new RegExp(`^GET ${API.health} 200 [\\d.]+ms$`));
    expect(lines.some((l) => l["reqId"] === generated)).toBe(true);
    const error = lines.find((l) => l["msg"] === "login failed");
    expect(error).toMatchObject({ reqId: "req-broken", level: 50, err: { message: "index on fire" } });
  });

  it("put the socket's id and user on the lines about a socket", async () => {
    const { logger, parsed } = capturingLogger();
    server = await startServer({ logger, openStorage: (path) => new FailingStorage(path) });
    const signedIn = await signIn(server.url, "Alice", "password123");
    const socket = await connect(server.url, signedIn.cookie);
    await request(socket, "message:send", text(DEFAULT_ROOM_ID, "fail this one"));
    const line = parsed().find((l) => l["msg"] === "message:send failed");
    expect(line).toMatchObject({ socketId: expect.any(String), userId: signedIn.user!.id, err: { message: "disk on fire" } });
  });
});
