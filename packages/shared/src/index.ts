export * from "./domain/limits.js";
export * from "./domain/schemas.js";
export * from "./domain/text.js";
export * from "./domain/mentions.js";
export * from "./protocol/errors.js";
export * from "./protocol/ack.js";
export * from "./protocol/events.js";
export * from "./protocol/http.js";
