/** Re-exports of the domain and core types the UI uses, so features import from one place. */
export type { Member, Message, RoomListing, RoomSummary, User } from "@parley/shared";
export type { ChatClient, ChatState, ConnectionState, Notice, PendingMessage, RoomTimeline, UploadJob } from "@parley/client";
