import sharp from "sharp";
import { LIMITS } from "@parley/shared";
import { MAX_IMAGE_PIXELS } from "./images.js";

/**
 * An avatar as Parley stores it: the picture decoded, turned upright by its EXIF orientation,
 * cropped to a centred square of LIMITS.avatarPx and encoded as WebP. Like every stored image
 * (images.ts) it is re-encoded from pixels, so EXIF (GPS included), XMP and comments are gone; an
 * animation keeps its first frame only (an avatar that moves beside every message is a distraction).
 * Null when sharp cannot decode it (corrupt, truncated, a format lie, over MAX_IMAGE_PIXELS).
 */
export async function processAvatar(input: Buffer): Promise<Buffer | null> {
  try {
    return await sharp(input, { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "error" })
      .rotate()
      .resize(LIMITS.avatarPx, LIMITS.avatarPx, { fit: "cover", position: "attention" })
      .webp({ quality: 85 })
      .toBuffer();
  } catch {
    return null;
  }
}
