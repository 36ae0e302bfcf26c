export * from "./api.js";
export * from "./state.js";
export * from "./reconcile.js";
export * from "./selectors.js";
export * from "./outbox.js";
export { createChatClient, type ChatClientOptions, type ParleyClientSocket } from "./client.js";
export { UPLOAD_LOST, isFinalUploadError } from "./uploads.js";
export * from "./profiles.js";
