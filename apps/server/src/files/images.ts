import sharp from "sharp";

/**
 * Images as Parley stores them (ADR 0014): decoded and encoded again, so the stored copy holds
 * pixels and nothing else. sharp writes no metadata unless asked to, so EXIF (camera, GPS position,
 * time), XMP, IPTC and comments are all gone; the EXIF orientation is applied to the pixels first,
 * so the picture still stands the right way up without it. A thumbnail is made beside it.
 */

/** Longest side of a thumbnail: the inline size in the timeline, twice over for high-DPI screens. */
export const THUMBNAIL_MAX_PX = 480;

/**
 * Pixels decoded at most: a 50 KB PNG can claim 100,000 x 100,000 pixels and would take 40 GB to
 * decode (a decompression bomb). 64 megapixels fits any phone camera; bigger files stay files.
 */
export const MAX_IMAGE_PIXELS = 64_000_000;

export interface ProcessedImage {
  /** The stored copy: same format, metadata-free. */
  data: Buffer;
  contentType: string;
  /** Of the stored copy (one frame of an animation), after rotation. */
  width: number;
  height: number;
  /** WebP, at most THUMBNAIL_MAX_PX a side (the first frame of an animation). */
  thumbnail: Buffer;
}

/**
 * Re-encodes an image and makes its thumbnail, or null when sharp cannot decode it (a truncated or
 * corrupt file, a format lie, or over MAX_IMAGE_PIXELS): the caller then keeps it as a plain file.
 */
export async function processImage(input: Buffer, contentType: string): Promise<ProcessedImage | null> {
  const options = { limitInputPixels: MAX_IMAGE_PIXELS, failOn: "error" as const };
  try {
    const animated = contentType === "image/gif" || contentType === "image/webp";
    const meta = await sharp(input, options).metadata();
    // Only a photo's EXIF orientation needs applying; sharp cannot rotate a multi-frame image.
    const rotate = (meta.orientation ?? 1) > 1 && (meta.pages ?? 1) === 1;
    let image = sharp(input, { ...options, animated: animated && (meta.pages ?? 1) > 1 });
    if (rotate) image = image.rotate();
    const encoded = await encodeAs(image, contentType).toBuffer({ resolveWithObject: true });
    let thumb = sharp(input, options);
    if (rotate) thumb = thumb.rotate();
    const thumbnail = await thumb
      .resize(THUMBNAIL_MAX_PX, THUMBNAIL_MAX_PX, { fit: "inside", withoutEnlargement: true })
      .webp({ quality: 80 })
      .toBuffer();
    const { info } = encoded;
    return {
      data: encoded.data,
      contentType,
      width: info.width,
      // An animation's height is its frames stacked; one frame is what is shown.
      height: info.pageHeight ?? info.height,
      thumbnail,
    };
  } catch {
    return null;
  }
}

function encodeAs(image: sharp.Sharp, contentType: string): sharp.Sharp {
  switch (contentType) {
    case "image/png":
      return image.png();
    case "image/gif":
      return image.gif();
    case "image/webp":
      return image.webp({ quality: 90 });
    default:
      // High enough that a screenshot's text stays crisp; mozjpeg saves a fifth at no visible cost.
      return image.jpeg({ quality: 90, mozjpeg: true });
  }
}
