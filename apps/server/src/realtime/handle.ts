import {
  ClientPayloadSchemas,
  ERROR_CODES,
  fail,
  ok,
  type AckResult,
  type ClientEventName,
  type ClientReplies,
  type ErrorCode,
  type ErrorInfo,
  type ParsedPayload,
} from "@parley/shared";
import type { z } from "zod";
import { DomainError } from "../domain/errors.js";
import { withContext, type Logger } from "../logger.js";
import { metricsOf } from "../observability/metrics.js";
import type { Drain } from "./drain.js";
import { channel, type ParleyServer, type ParleySocket } from "./types.js";

/**
 * A check that runs after parsing and before the handler (rate limits): resolves to allow, or
 * rejects with a DomainError that becomes the ack.
 */
export type CommandGuard = (event: ClientEventName, socket: ParleySocket) => Promise<void> | void;

/** Who sent a command: what every handler needs of its socket, built per packet (cheap, short-lived). */
export interface CommandContext {
  socket: ParleySocket;
  userId: string;
  nickname: string;
  /** The sender as the services take them. */
  me: { id: string; nickname: string; createdAt: number };
  /** `user:<id>`: every tab of the sender. */
  userChannel: string;
}

type Handler<E extends ClientEventName> = (payload: ParsedPayload<E>, ctx: CommandContext) => Promise<ClientReplies[E]>;

interface Entry {
  handler: Handler<ClientEventName>;
  guard: CommandGuard | undefined;
  /**
   * parley_commands_total and parley_command_ack_seconds for this event: looked up at its first
   * packet (the metrics are attached to the server after the table is built), null without metrics.
   */
  recorder: ReturnType<NonNullable<ReturnType<typeof metricsOf>>["command"]> | null | undefined;
}

/** What a socket's commands wait for, and its log (made when first needed: most sockets never log). */
interface SocketState {
  /** Resolves once the socket has joined its rooms; null once it has (nothing to wait for). */
  ready: Promise<void> | null;
}

/**
 * Every command handler of a server, defined once (issue 15), and the one listener each socket
 * gets. Before, each socket registered its own closure per command (about 45 listeners, their
 * contexts and a dictionary-mode `_events` per socket: ~15 KB of a signed-in socket's memory); now
 * a socket costs one entry in Socket.IO's any-listener list and a small record here.
 *
 * Per packet: parse the payload with the shared schema, run the guard and the handler, answer with
 * exactly one ack envelope. A client that sent no callback gets failures as `request:failed`.
 * Handlers run only after the socket's `ready` (it has joined its rooms), so a command sent right
 * after connecting can never read before the socket is subscribed.
 *
 * Every packet is hostile: nothing a client sends may throw out of this listener, because a throw
 * inside a Socket.IO listener is an uncaught exception that ends the process for everyone. Parsing
 * itself can throw (zod reads `length`/`toString` of attacker-shaped objects: see the regression
 * test in test/unit/zod-hostile-objects.test.ts), so parsing, the guard, the handler and the reply
 * all run inside one try, and any throw becomes an INTERNAL ack plus a log line.
 */
export class CommandTable {
  private readonly entries = new Map<string, Entry>();
  private readonly sockets = new WeakMap<ParleySocket, SocketState>();

  constructor(
    private readonly io: ParleyServer,
    private readonly logger: Logger,
    /** Graceful shutdown: counts commands in flight, drops new ones while draining. */
    private readonly drain?: Drain,
  ) {}

  /** Defines the handler of `event` (once per server). */
  on<E extends ClientEventName>(event: E, handler: Handler<E>, guard?: CommandGuard): void {
    if (this.entries.has(event)) throw new Error(`${event}: handler defined twice`);
    this.entries.set(event, {
      handler: handler as unknown as Handler<ClientEventName>,
      guard,
      recorder: undefined,
    });
  }

  /** Starts serving `socket`'s commands; they wait for `ready`, and are refused if it rejects. */
  attach(socket: ParleySocket, ready: Promise<void>): void {
    const state: SocketState = { ready };
    this.sockets.set(socket, state);
    // Once joined, nothing to wait for: the promise (and what it holds) can go.
    ready.then(
      () => (state.ready = null),
      () => {},
    );
    socket.onAny(this.listener);
  }

  /** A log for one socket's lines: made on demand (an error), not kept per socket. */
  private logOf(socket: ParleySocket): Logger {
    return withContext(this.logger, { socketId: socket.id, userId: socket.data.userId });
  }

  /** The one listener every socket shares: `this` is the socket (Socket.IO calls any-listeners so). */
  private readonly listener = ((table: CommandTable) =>
    function (this: ParleySocket, event: unknown, ...args: unknown[]): void {
      table.dispatch(this, event, args);
    })(this);

  private dispatch(socket: ParleySocket, event: unknown, args: unknown[]): void {
    // Socket.IO passes the ack callback last, after however many values the client sent: with
    // the wrong number of values (found by the fuzz suite) the callback is not the second argument,
    // and reading it from there left the packet without an answer.
    const sent = typeof args.at(-1) === "function" ? (args.pop() as (result: unknown) => void) : undefined;
    const ack = this.drain ? this.drain.admit(sent) : sent;
    if (ack === null) return; // Draining: dropped unanswered, for the client to send again elsewhere.
    const entry = typeof event === "string" ? this.entries.get(event) : undefined;
    if (!entry) {
      // Not a command of the protocol: answered when the client waits for an answer, otherwise
      // ignored (a reply to every stray packet would let a client make the server talk for free).
      if (ack) this.safely(() => ack(fail("INVALID_PAYLOAD", `event: ${JSON.stringify(String(event)).slice(0, 80)} is not a command`)), socket, "unknown event");
      return;
    }
    const name = event as ClientEventName;
    if (entry.recorder === undefined) entry.recorder = metricsOf(this.io)?.command(name) ?? null;
    const { recorder } = entry;
    const startedAt = recorder ? performance.now() : 0;
    const [payload] = args;
    let answered = false;
    const reply = (result: AckResult<unknown>) => {
      if (answered) return;
      answered = true;
      recorder?.record(startedAt, result);
      this.safely(() => {
        if (ack) ack(result);
        else if (!result.ok) socket.emit("request:failed", { event: name, ...result.error });
      }, socket, `${name}: replying`);
    };
    // The guard (rate limits) runs first and, for a budget known to be spent, refuses
    // synchronously: a flood's thousands of packets then cost no schema parse and no promise
    // chain each (measured with `pnpm bench:abuse`: the bystander's p99 is what the flood costs
    // everyone else). A guard that needs the store answers later; `run` waits for it.
    let guarded: Promise<void> | void = undefined;
    if (entry.guard) {
      try {
        guarded = entry.guard(name, socket);
      } catch (error) {
        reply(toAck(error, this.logOf(socket), name));
        return;
      }
      // Awaited in `run` after the parse; marked handled now so that a refusal racing a failed
      // parse is never an unhandled rejection.
      if (guarded) guarded.catch(() => {});
    }
    const state = this.sockets.get(socket);
    const run = async (): Promise<unknown> => {
      if (args.length > 1) {
        throw new ValidationFailure(fail("INVALID_PAYLOAD", `payload: expected one payload object, got ${args.length} values`));
      }
      const parsed = ClientPayloadSchemas[name].safeParse(payload);
      if (!parsed.success) throw new ValidationFailure(validationFailure(name, parsed.error));
      // A socket this table was not attached to has no setup: refuse rather than run unjoined.
      if (!state) throw new DomainError("UNAUTHENTICATED", "This connection is not set up.");
      if (state.ready) await state.ready;
      await guarded;
      const { userId, nickname } = socket.data;
      const ctx: CommandContext = { socket, userId, nickname, me: { id: userId, nickname, createdAt: 0 }, userChannel: channel.user(userId) };
      return entry.handler(parsed.data as ParsedPayload<ClientEventName>, ctx);
    };
    let pending: Promise<unknown>;
    try {
      pending = run();
    } catch (error) {
      // `run` is async: it cannot throw synchronously; kept so that a refactor cannot make it so.
      pending = Promise.reject(error);
    }
    pending.then(
      (data) => reply(ok(data)),
      (error: unknown) => reply(error instanceof ValidationFailure ? error.ack : toAck(error, this.logOf(socket), name)),
    );
  }

  /** Runs a reply; a throw (a closed connection, a bad ack) is logged, never thrown into Socket.IO. */
  private safely(fn: () => void, socket: ParleySocket, what: string): void {
    try {
      fn();
    } catch (error) {
      this.logOf(socket).error(`${what} failed`, error);
    }
  }
}

/** A payload the schema refused: carries its ack (not an error worth a log line). */
class ValidationFailure extends Error {
  constructor(readonly ack: { ok: false; error: { code: ErrorCode; message: string } }) {
    super(ack.error.code);
  }
}

/** Domain errors keep their code; anything else is logged and answered with a generic INTERNAL. */
export function toAck(error: unknown, logger: Logger, context: string): { ok: false; error: ErrorInfo } {
  if (error instanceof DomainError) return fail(error.code, error.message, error.retryAfterMs);
  logger.error(`${context} failed`, error);
  return fail("INTERNAL", "Something went wrong on the server. Please try again.");
}

/** Turns a schema failure into the most specific code the UI can explain. */
export function validationFailure(event: ClientEventName, error: z.ZodError): { ok: false; error: { code: ErrorCode; message: string } } {
  const issue = error.issues[0];
  const field = issue?.path[0];
  const message = issue ? `${issue.path.join(".") || "payload"}: ${issue.message}` : "Invalid payload";
  // A check that knows what went wrong says so (the shared schemas' IssueParams): a blank body, a
  // body or room name with a control or invisible character.
  if (issue?.code === "custom" && isErrorCode(issue.params?.["errorCode"])) return fail(issue.params["errorCode"], issue.message);
  if ((event === "message:send" || event === "message:edit") && field === "body" && issue?.code === "too_big") return fail("MESSAGE_TOO_LONG", issue.message);
  // Only a name the user could have typed (blank, too long) is ROOM_NAME_INVALID; a name of the
  // wrong type is a client bug, like a body of the wrong type above.
  if (event === "room:create" && field === "name" && issue && (issue.code === "too_small" || issue.code === "too_big")) {
    return fail("ROOM_NAME_INVALID", issue.message);
  }
  return fail("INVALID_PAYLOAD", message);
}

const KNOWN_CODES: ReadonlySet<unknown> = new Set(ERROR_CODES);
function isErrorCode(value: unknown): value is ErrorCode {
  return KNOWN_CODES.has(value);
}
