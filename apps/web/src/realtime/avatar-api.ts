import { API, LIMITS, type AvatarResponse, type ErrorInfo, type Profile } from "@parley/shared";

/** Avatar uploads over HTTP (issue 14): the image as the raw body, like a file upload (ADR 0014). */

export type AvatarResult = { ok: true; profile: Profile } | { ok: false; code: string };

/** The image types the server accepts as avatars (it sniffs the bytes itself; this only filters the picker). */
export const AVATAR_ACCEPT = "image/png,image/jpeg,image/gif,image/webp";

async function answer(res: Response): Promise<AvatarResult> {
  try {
    const body = (await res.json()) as Partial<AvatarResponse> & { error?: Partial<ErrorInfo> };
    if (res.ok && body.profile) return { ok: true, profile: body.profile };
    return { ok: false, code: body.error?.code ?? "INTERNAL" };
  } catch {
    return { ok: false, code: "INTERNAL" };
  }
}

/** POST the picture; refused here before a byte is sent when it is over the size limit. */
export async function uploadAvatar(file: Blob): Promise<AvatarResult> {
  if (file.size > LIMITS.avatarMaxBytes) return { ok: false, code: "FILE_TOO_LARGE" };
  if (file.size === 0) return { ok: false, code: "FILE_EMPTY" };
  try {
    return await answer(await fetch(API.myAvatar, { method: "POST", credentials: "same-origin", headers: { "content-type": "application/octet-stream" }, body: file }));
  } catch {
    return { ok: false, code: "NETWORK" };
  }
}

export async function removeAvatar(): Promise<AvatarResult> {
  try {
    return await answer(await fetch(API.myAvatar, { method: "DELETE", credentials: "same-origin" }));
  } catch {
    return { ok: false, code: "NETWORK" };
  }
}
