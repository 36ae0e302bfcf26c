import type { ErrorCode } from "@parley/shared";

/** A refusal the user should see: carries a protocol error code and an English sentence. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = "DomainError";
  }
}
