/**
 * Image dimensions from the first bytes of a file, without decoding the image or any native dependency.
 * Reads PNG, JPEG, GIF and WebP headers; anything else, truncated or malformed is `undefined`. Every read
 * is bounds-checked and every loop advances, so hostile uploads can neither throw nor hang.
 *
 * The size reported is the stored one: a JPEG's EXIF orientation (phone photos taken upright are often
 * stored sideways with orientation 6 or 8) is not applied.
 */

export type ImageType = 'png' | 'jpeg' | 'gif' | 'webp';

export interface ImageSize {
  readonly type: ImageType;
  readonly width: number;
  readonly height: number;
}

const u8 = (bytes: Uint8Array, at: number): number | undefined => bytes[at];

const u16be = (bytes: Uint8Array, at: number): number | undefined => {
  const a = bytes[at];
  const b = bytes[at + 1];
  return a === undefined || b === undefined ? undefined : (a << 8) | b;
};

const u16le = (bytes: Uint8Array, at: number): number | undefined => {
  const a = bytes[at];
  const b = bytes[at + 1];
  return a === undefined || b === undefined ? undefined : a | (b << 8);
};

const u24le = (bytes: Uint8Array, at: number): number | undefined => {
  const low = u16le(bytes, at);
  const high = bytes[at + 2];
  return low === undefined || high === undefined ? undefined : low + high * 0x1_0000;
};

const u32be = (bytes: Uint8Array, at: number): number | undefined => {
  const high = u16be(bytes, at);
  const low = u16be(bytes, at + 2);
  return high === undefined || low === undefined ? undefined : high * 0x1_0000 + low;
};

const startsWith = (bytes: Uint8Array, at: number, ascii: string): boolean => {
  if (at + ascii.length > bytes.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
};

const sized = (type: ImageType, width: number | undefined, height: number | undefined) =>
  width === undefined || height === undefined || width < 1 || height < 1
    ? undefined
    : { type, width, height };

const PNG_SIGNATURE = '\x89PNG\r\n\x1a\n';
/** PNG dimensions are limited to 2^31 - 1. */
const PNG_MAX = 0x7fff_ffff;

const png = (bytes: Uint8Array): ImageSize | undefined => {
  // signature (8) | IHDR length (4) = 13 | "IHDR" | width (4, BE) | height (4, BE) | ...
  if (u32be(bytes, 8) !== 13 || !startsWith(bytes, 12, 'IHDR')) return undefined;
  const width = u32be(bytes, 16);
  const height = u32be(bytes, 20);
  if (width === undefined || height === undefined || width > PNG_MAX || height > PNG_MAX) return undefined;
  return sized('png', width, height);
};

const gif = (bytes: Uint8Array): ImageSize | undefined =>
  // "GIF87a" | "GIF89a", then the logical screen: width (2, LE) | height (2, LE)
  sized('gif', u16le(bytes, 6), u16le(bytes, 8));

/** Markers with no length and no payload: TEM, RST0–RST7 and a repeated SOI. */
const standalone = (marker: number) => marker === 0x01 || (marker >= 0xd0 && marker <= 0xd8);
/** SOF0–SOF15, except C4 (DHT), C8 (JPG, reserved) and CC (DAC), which share the range. */
const startOfFrame = (marker: number) =>
  marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc;
const EOI = 0xd9;
const SOS = 0xda;

const jpeg = (bytes: Uint8Array): ImageSize | undefined => {
  let at = 2; // after SOI (FF D8)
  for (;;) {
    // Each segment starts with FF; any further FFs are fill bytes.
    if (u8(bytes, at) !== 0xff) return undefined;
    while (u8(bytes, at) === 0xff) at++;
    const marker = u8(bytes, at);
    if (marker === undefined || marker === 0x00) return undefined;
    at++;
    if (standalone(marker)) continue;
    // End of image, or image data, before any frame header: nothing to report.
    if (marker === EOI || marker === SOS) return undefined;
    const length = u16be(bytes, at); // includes its own two bytes
    if (length === undefined || length < 2) return undefined;
    if (startOfFrame(marker)) {
      // length (2) | precision (1) | height (2) | width (2) | components (1) | ...; height 0 (a DNL
      // segment defines it after the first scan) is not supported.
      if (length < 8) return undefined;
      return sized('jpeg', u16be(bytes, at + 5), u16be(bytes, at + 3));
    }
    at += length;
    // A segment running past what was read: the frame header is not in these bytes.
    if (at >= bytes.length) return undefined;
  }
};

const webp = (bytes: Uint8Array): ImageSize | undefined => {
  // "RIFF" | file size (4) | "WEBP" | chunk FourCC (4) | chunk size (4) | chunk data at 20
  if (startsWith(bytes, 12, 'VP8 ')) {
    // Lossy: frame tag (3; bit 0 clear on a key frame) | start code 9D 01 2A | width (2) | height (2),
    // each 14 bits plus 2 bits of scaling.
    const tag = u8(bytes, 20);
    if (tag === undefined || (tag & 1) !== 0) return undefined;
    if (u8(bytes, 23) !== 0x9d || u8(bytes, 24) !== 0x01 || u8(bytes, 25) !== 0x2a) return undefined;
    const width = u16le(bytes, 26);
    const height = u16le(bytes, 28);
    return sized(
      'webp',
      width === undefined ? undefined : width & 0x3fff,
      height === undefined ? undefined : height & 0x3fff,
    );
  }
  if (startsWith(bytes, 12, 'VP8L')) {
    // Lossless: signature 2F | 14 bits width - 1 | 14 bits height - 1 | 1 bit alpha | 3 bits version (0)
    if (u8(bytes, 20) !== 0x2f) return undefined;
    const b0 = u8(bytes, 21);
    const b1 = u8(bytes, 22);
    const b2 = u8(bytes, 23);
    const b3 = u8(bytes, 24);
    if (b0 === undefined || b1 === undefined || b2 === undefined || b3 === undefined) return undefined;
    if (b3 >> 5 !== 0) return undefined;
    const width = 1 + (b0 | ((b1 & 0x3f) << 8));
    const height = 1 + ((b1 >> 6) | (b2 << 2) | ((b3 & 0x0f) << 10));
    return sized('webp', width, height);
  }
  if (startsWith(bytes, 12, 'VP8X')) {
    // Extended: flags (1) | reserved (3) | canvas width - 1 (3, LE) | canvas height - 1 (3, LE)
    const width = u24le(bytes, 24);
    const height = u24le(bytes, 27);
    return sized(
      'webp',
      width === undefined ? undefined : width + 1,
      height === undefined ? undefined : height + 1,
    );
  }
  return undefined;
};

/**
 * Type and pixel size of a PNG, JPEG, GIF or WebP from its first bytes. PNG, GIF and WebP need at most 30
 * bytes; a JPEG's frame header follows its APPn segments (EXIF with a thumbnail, ICC profile, XMP), each
 * up to 64 KB, so a camera JPEG may need more than the first 64 KB: `undefined` then means "not found in
 * these bytes".
 */
export const imageSize = (bytes: Uint8Array): ImageSize | undefined => {
  if (startsWith(bytes, 0, PNG_SIGNATURE)) return png(bytes);
  if (u8(bytes, 0) === 0xff && u8(bytes, 1) === 0xd8) return jpeg(bytes);
  if (startsWith(bytes, 0, 'GIF87a') || startsWith(bytes, 0, 'GIF89a')) return gif(bytes);
  if (startsWith(bytes, 0, 'RIFF') && startsWith(bytes, 8, 'WEBP')) return webp(bytes);
  return undefined;
};
