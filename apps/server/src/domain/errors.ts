import type { ErrorCode } from "@parley/shared";

/** A refusal the user should see: carries a protocol error code and an English sentence. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    /** Only with RATE_LIMITED: when the same request will be accepted again (ErrorInfo.retryAfterMs). */
    readonly retryAfterMs?: number,
  ) {
    super(message);
    this.name = "DomainError";
  }
}
