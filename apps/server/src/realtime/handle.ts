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
import type { Logger } from "../logger.js";
import { metricsOf } from "../observability/metrics.js";
import type { ParleySocket } from "./types.js";

/**
 * A check that runs after parsing and before the handler (rate limits): resolves to allow, or
 * rejects with a DomainError that becomes the ack.
 */
export type CommandGuard = (event: ClientEventName, socket: ParleySocket) => Promise<void> | void;

/**
 * Registers one command handler: parse the payload with the shared schema, run the handler, answer
 * with exactly one ack envelope. A client that sent no callback gets failures as `request:failed`.
 * Handlers run only after `ready` (the socket has joined its rooms), so a command sent right after
 * connecting can never read before the socket is subscribed.
 *
 * Every packet is hostile: nothing a client sends may throw out of this listener, because a throw
 * inside a Socket.IO listener is an uncaught exception that ends the process for everyone. Parsing
 * itself can throw (zod reads `length`/`toString` of attacker-shaped objects: see the regression
 * test in test/unit/zod-hostile-objects.test.ts), so parsing, the guard, the handler and the reply
 * all run inside one try, and any throw becomes an INTERNAL ack plus a log line.
 */
export function handle<E extends ClientEventName>(
  socket: ParleySocket,
  event: E,
  ready: Promise<void>,
  logger: Logger,
  handler: (payload: ParsedPayload<E>) => Promise<ClientReplies[E]>,
  guard?: CommandGuard,
): void {
  // parley_commands_total and parley_command_ack_seconds: looked up once per registration; an io
  // without metrics (none today, but the lookup is by server) records nothing.
  const recorder = metricsOf(socket.nsp.server)?.command(event);
  const listener = (...args: unknown[]) => {
    const startedAt = recorder ? performance.now() : 0;
    // Socket.IO passes the ack callback last, after however many values the client sent: with
    // the wrong number of values (found by the fuzz suite) the callback is not the second argument,
    // and reading it from there left the packet without an answer.
    const ack = typeof args.at(-1) === "function" ? args.pop() : undefined;
    const [payload] = args;
    let answered = false;
    const reply = (result: AckResult<ClientReplies[E]>) => {
      if (answered) return;
      answered = true;
      recorder?.record(startedAt, result);
      try {
        if (typeof ack === "function") ack(result);
        else if (!result.ok) socket.emit("request:failed", { event, ...result.error });
      } catch (error) {
        logger.error(`${event}: replying failed`, error);
      }
    };
    // The guard (rate limits) runs first and, for a budget known to be spent, refuses
    // synchronously: a flood's thousands of packets then cost no schema parse and no promise
    // chain each (measured with `pnpm bench:abuse`: the bystander's p99 is what the flood costs
    // everyone else). A guard that needs the store answers later; `run` waits for it.
    let guarded: Promise<void> | void = undefined;
    if (guard) {
      try {
        guarded = guard(event, socket);
      } catch (error) {
        reply(toAck(error, logger, event));
        return;
      }
      // Awaited in `run` after the parse; marked handled now so that a refusal racing a failed
      // parse is never an unhandled rejection.
      if (guarded) guarded.catch(() => {});
    }
    const run = async (): Promise<ClientReplies[E]> => {
      if (args.length > 1) {
        throw new ValidationFailure(fail("INVALID_PAYLOAD", `payload: expected one payload object, got ${args.length} values`));
      }
      const parsed = ClientPayloadSchemas[event].safeParse(payload);
      if (!parsed.success) throw new ValidationFailure(validationFailure(event, parsed.error));
      await ready;
      await guarded;
      return handler(parsed.data as ParsedPayload<E>);
    };
    let pending: Promise<ClientReplies[E]>;
    try {
      pending = run();
    } catch (error) {
      // `run` is async: it cannot throw synchronously; kept so that a refactor cannot make it so.
      pending = Promise.reject(error);
    }
    pending.then(
      (data) => reply(ok(data)),
      (error: unknown) => reply(error instanceof ValidationFailure ? error.ack : toAck(error, logger, event)),
    );
  };
  // The typed `on` cannot be called with a generic event name; the listener is checked above.
  (socket.on as (event: string, listener: (...args: unknown[]) => void) => void)(event, listener);
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
