export * from "./api.js";
export * from "./state.js";
export * from "./reconcile.js";
export * from "./selectors.js";
export * from "./moderation.js";
export * from "./outbox.js";
export { createChatClient, type ChatClientOptions, type CoreSocket, type ParleyClientSocket, type Transport, type TransportFactory, type TransportOptions } from "./client.js";
export { UPLOAD_LOST, isFinalUploadError } from "./uploads.js";
export {
  createSharedTransport,
  electLeader,
  RELAY_MARGIN_MS,
  type LeaderSocket,
  type LockManagerLike,
  type RelayChannel,
  type RelayMessage,
  type SharedTransport,
  type SharedTransportOptions,
} from "./shared-transport.js";
export type { CoreContext } from "./context.js";
export * from "./profiles.js";
