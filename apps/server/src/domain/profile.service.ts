import { randomUUID } from "node:crypto";
import { LIMITS, type NotifyLevel, type ParsedPayload, type Profile, type RoomSummary } from "@parley/shared";
import { BlobTooLargeError, type BlobRead, type BlobStore } from "../blobs/blob-store.js";
import { processAvatar } from "../files/avatar.js";
import { RASTER_IMAGE_TYPES, SNIFF_BYTES, sniff } from "../files/sniff.js";
import type { Storage } from "../storage/storage.js";
import { DomainError } from "./errors.js";
import { collect, tooLarge, type FileService } from "./file.service.js";
import { notAMember } from "./message.service.js";

/**
 * Profiles sent with `session:sync` at most. Only users who set something are sent (the others
 * are plain nicknames), so this is reached only by a very large deployment; past it, the rest are
 * fetched on demand (`profiles:get`) like anyone else's.
 */
const SYNC_PROFILES_MAX = 2_000;

/**
 * Who sees a profile change: the changed profile and the rooms whose members must hear of it (the
 * user's own tabs are told through their user channel by the caller).
 */
export type ProfileChanged = (profile: Profile, roomIds: string[]) => void;

/**
 * Profiles (display name, status, availability, avatar), last seen and per-room notification
 * levels (issue 14). No socket and no HTTP: handlers and routes call these, and every change to a
 * profile is reported through `onChanged` for the app to broadcast (`user:updated`).
 */
export class ProfileService {
  constructor(
    private readonly storage: Storage,
    private readonly blobs: BlobStore,
    /** The upload pipeline's quota and image slots: an avatar counts like any upload. */
    private readonly files: FileService,
    private readonly onChanged: ProfileChanged,
    private readonly now: () => number = Date.now,
  ) {}

  /** My profile and the set profiles of everyone sharing a room with me (see SyncData.profiles). */
  forSync(userId: string): Promise<Profile[]> {
    return this.storage.listProfilesForSync(userId, SYNC_PROFILES_MAX);
  }

  async get(userIds: readonly string[]): Promise<Profile[]> {
    return this.storage.getProfiles([...new Set(userIds)]);
  }

  /** Applies a `profile:update` ("" clears a text) and tells everyone who can see the user. */
  async update(userId: string, patch: ParsedPayload<"profile:update">): Promise<Profile> {
    const profile = await this.storage.updateProfile(userId, {
      ...(patch.displayName !== undefined && { displayName: patch.displayName === "" ? null : patch.displayName }),
      ...(patch.statusText !== undefined && { statusText: patch.statusText === "" ? null : patch.statusText }),
      ...(patch.availability !== undefined && { availability: patch.availability }),
    });
    if (!profile) throw new DomainError("USER_NOT_FOUND", "Your account no longer exists.");
    await this.changed(profile);
    return profile;
  }

  /** The user's last socket went away at `at` (after the presence grace delay). */
  async seen(userId: string, at: number): Promise<void> {
    await this.storage.setLastSeen(userId, at);
  }

  async setNotifyLevel(userId: string, roomId: string, level: NotifyLevel): Promise<RoomSummary> {
    if (!(await this.storage.setNotifyLevel(roomId, userId, level))) throw notAMember();
    const summary = await this.storage.getRoomSummary(roomId, userId);
    if (!summary) throw notAMember();
    return summary;
  }

  /** Checks an avatar upload before a byte is read: its declared size and the daily quota. */
  async beginAvatar(userId: string, declaredBytes: number): Promise<{ maxBytes: number }> {
    const max = this.avatarMaxBytes();
    if (declaredBytes > max) throw tooLarge(max);
    await this.files.checkQuota(userId, declaredBytes);
    return { maxBytes: Math.min(declaredBytes, max) };
  }

  /**
   * Stores a new avatar from the request body: only a PNG, JPEG, GIF or WebP the server decodes
   * (sniffed from the bytes, never from a name or a claimed type), re-encoded as a metadata-free
   * square (files/avatar.ts). The old avatar's blob stays in the store (blobs are shared by hash
   * and swept, if ever, by what refers to them: ADR 0014).
   */
  async storeAvatar(userId: string, body: AsyncIterable<Uint8Array>, maxBytes: number): Promise<Profile> {
    const bytes = await collect(body, maxBytes).catch((e: unknown) => {
      throw e instanceof BlobTooLargeError ? tooLarge(this.avatarMaxBytes()) : e;
    });
    if (!RASTER_IMAGE_TYPES.has(sniff(bytes.subarray(0, SNIFF_BYTES)))) throw avatarInvalid();
    await this.files.checkQuota(userId, bytes.length);
    const square = await this.files.withImageSlot(() => processAvatar(bytes));
    if (!square) throw avatarInvalid();
    const blob = await this.blobs.put(once(square));
    const profile = await this.storage.setAvatar(userId, { avatarId: randomUUID(), blobHash: blob.hash, uploadBytes: bytes.length, at: this.now() });
    if (!profile) throw new DomainError("USER_NOT_FOUND", "Your account no longer exists.");
    await this.changed(profile);
    return profile;
  }

  async removeAvatar(userId: string): Promise<Profile> {
    const profile = await this.storage.setAvatar(userId, null);
    if (!profile) throw new DomainError("USER_NOT_FOUND", "Your account no longer exists.");
    await this.changed(profile);
    return profile;
  }

  /**
   * A user's avatar, for any signed-in user (a name and a face are what everyone in a chat sees
   * anyway). FILE_NOT_FOUND without one.
   */
  async openAvatar(userId: string): Promise<{ avatarId: string; read: BlobRead }> {
    const avatar = await this.storage.getAvatar(userId);
    const read = avatar ? await this.blobs.get(avatar.blobHash) : null;
    if (!avatar || !read) throw new DomainError("FILE_NOT_FOUND", "That user has no avatar.");
    return { avatarId: avatar.avatarId, read };
  }

  /** The largest avatar upload: LIMITS.avatarMaxBytes, or the file limit when that is lower. */
  avatarMaxBytes(): number {
    return Math.min(LIMITS.avatarMaxBytes, this.files.limits.fileMaxBytes);
  }

  private async changed(profile: Profile): Promise<void> {
    this.onChanged(profile, await this.storage.listRoomIdsForUser(profile.id));
  }
}

const avatarInvalid = () => new DomainError("AVATAR_INVALID", "An avatar must be a PNG, JPEG, GIF or WebP image.");

async function* once(data: Uint8Array): AsyncGenerator<Uint8Array> {
  yield data;
}
