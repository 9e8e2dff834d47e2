import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { imageSize } from '../../shared/domain/image-size.ts';

// Byte builders: every fixture below is written by hand, so each test shows the exact layout it checks.
type Part = Uint8Array | readonly number[] | string;
const bytes = (...parts: Part[]): Uint8Array => {
  const arrays = parts.map((part) =>
    typeof part === 'string' ? Uint8Array.from(part, (c) => c.charCodeAt(0)) : Uint8Array.from(part),
  );
  const out = new Uint8Array(arrays.reduce((total, array) => total + array.length, 0));
  let at = 0;
  for (const array of arrays) {
    out.set(array, at);
    at += array.length;
  }
  return out;
};
const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
const le16 = (n: number) => [n & 0xff, (n >> 8) & 0xff];
const le24 = (n: number) => [n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff];
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const filled = (length: number, value: number) => new Uint8Array(length).fill(value);

/** A complete, valid 8-bit greyscale PNG (zlib-compressed rows, CRCs), black. */
const png = (width: number, height: number, ihdr?: Part): Uint8Array => {
  const chunk = (type: string, data: Uint8Array) => {
    const typed = bytes(type, data);
    return bytes(be32(data.length), typed, be32(crc32(typed)));
  };
  const rows = new Uint8Array(height * (1 + width)); // each row: filter type 0, then `width` grey bytes
  return bytes(
    '\x89PNG\r\n\x1a\n',
    chunk('IHDR', bytes(ihdr ?? bytes(be32(width), be32(height), [8, 0, 0, 0, 0]))),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', new Uint8Array(0)),
  );
};

const segment = (marker: number, ...payload: Part[]) => {
  const body = bytes(...payload);
  return bytes([0xff, marker], be16(body.length + 2), body);
};
const JFIF = segment(0xe0, 'JFIF\0', [1, 1, 0], be16(72), be16(72), [0, 0]);
const DQT = segment(0xdb, [0x00], filled(64, 1));
const DHT = segment(0xc4, [0x00], [1], filled(15, 0), [0]);
/** A frame header: precision 8, height, width, 3 components (Y 2×2, Cb, Cr). */
const sof = (marker: number, width: number, height: number) =>
  segment(marker, [8], be16(height), be16(width), [3, 1, 0x22, 0, 2, 0x11, 1, 3, 0x11, 1]);
const SOS = segment(0xda, [3, 1, 0x00, 2, 0x11, 3, 0x11, 0, 63, 0]);
/** Start of scan, then entropy-coded data (with a stuffed FF 00). */
const SCAN = bytes(SOS, [0x12, 0x34, 0xff, 0x00, 0x56]);
const EOI = [0xff, 0xd9];
/** EXIF APP1 (big-endian TIFF, one IFD entry: orientation 6) whose payload also holds fake SOF0 bytes. */
const EXIF = segment(
  0xe1,
  'Exif\0\0',
  'MM\0\x2a',
  be32(8),
  be16(1),
  [0x01, 0x12, 0x00, 0x03],
  be32(1),
  [0x00, 0x06, 0x00, 0x00],
  be32(0),
  [0xff, 0xc0, 0x00, 0x11, 0x08, 0x00, 0x10, 0x00, 0x10],
);
const jpeg = (...segments: Part[]) => bytes([0xff, 0xd8], ...segments, SCAN, EOI);

const riff = (chunk: string, data: Part) => {
  const body = bytes(data);
  return bytes('RIFF', le32(4 + 8 + body.length), 'WEBP', chunk, le32(body.length), body);
};
/** Lossy: key-frame tag (show_frame), start code, 14-bit sizes with 2 scaling bits above them. */
const vp8 = (width: number, height: number, { hScale = 0, vScale = 0 } = {}) =>
  riff(
    'VP8 ',
    bytes(
      [0x10, 0x00, 0x00],
      [0x9d, 0x01, 0x2a],
      le16(width | (hScale << 14)),
      le16(height | (vScale << 14)),
      filled(10, 0),
    ),
  );
/** Lossless: signature, then width - 1 (14 bits), height - 1 (14 bits), alpha (1 bit), version (3 bits). */
const vp8l = (width: number, height: number, { alpha = 0, version = 0 } = {}) =>
  riff(
    'VP8L',
    bytes(
      [0x2f],
      le32(((width - 1) | ((height - 1) << 14) | (alpha << 28) | (version << 29)) >>> 0),
      filled(6, 0),
    ),
  );
/** Extended: flags, 3 reserved bytes, canvas width - 1 and height - 1 (24 bits each). */
const vp8x = (width: number, height: number) =>
  riff('VP8X', bytes([0x10, 0, 0, 0], le24(width - 1), le24(height - 1)));
const gif = (version: '87a' | '89a', width: number, height: number) =>
  bytes(`GIF${version}`, le16(width), le16(height), [0x80, 0, 0], [0, 0, 0, 0xff, 0xff, 0xff], [0x3b]);

/** Deterministic PRNG (mulberry32), so a failing random case can be replayed. */
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

/** Valid files, the size they declare, and how many leading bytes are needed to read it. */
const fixtures = (() => {
  const exifJpeg = jpeg(JFIF, EXIF, DQT, sof(0xc0, 640, 480), DHT);
  return [
    { name: 'PNG', file: png(640, 480), size: { type: 'png', width: 640, height: 480 }, needed: 24 },
    {
      name: 'GIF87a',
      file: gif('87a', 320, 200),
      size: { type: 'gif', width: 320, height: 200 },
      needed: 10,
    },
    {
      name: 'GIF89a',
      file: gif('89a', 1, 65535),
      size: { type: 'gif', width: 1, height: 65535 },
      needed: 10,
    },
    {
      name: 'JPEG with EXIF',
      file: exifJpeg,
      size: { type: 'jpeg', width: 640, height: 480 },
      needed: 2 + JFIF.length + EXIF.length + DQT.length + 9,
    },
    { name: 'WebP VP8', file: vp8(640, 480), size: { type: 'webp', width: 640, height: 480 }, needed: 30 },
    { name: 'WebP VP8L', file: vp8l(640, 480), size: { type: 'webp', width: 640, height: 480 }, needed: 25 },
    { name: 'WebP VP8X', file: vp8x(640, 480), size: { type: 'webp', width: 640, height: 480 }, needed: 30 },
  ] as const;
})();

describe('imageSize: PNG', () => {
  it('reads width and height from the IHDR of a complete PNG', () => {
    // Prepare
    const file = png(640, 480);

    // Act
    const size = imageSize(file);

    // Assess
    expect(size).toEqual({ type: 'png', width: 640, height: 480 });
  });

  it('reads a 1×1 PNG and an extreme 1×65535 one, given only the first 64 KB', () => {
    // Prepare
    const tiny = png(1, 1);
    const tall = png(1, 65535).subarray(0, 64 * 1024);

    // Act + Assess
    expect(imageSize(tiny)).toEqual({ type: 'png', width: 1, height: 1 });
    expect(imageSize(tall)).toEqual({ type: 'png', width: 1, height: 65535 });
  });

  it('reads sizes above 2^16 and refuses those the PNG format forbids (0 or 2^31 and above)', () => {
    // Prepare
    const ihdr = (width: number, height: number) =>
      png(1, 1, bytes(be32(width), be32(height), [8, 0, 0, 0, 0]));

    // Act + Assess
    expect(imageSize(ihdr(100_000, 3))).toEqual({ type: 'png', width: 100_000, height: 3 });
    expect(imageSize(ihdr(0x7fff_ffff, 1))).toEqual({ type: 'png', width: 0x7fff_ffff, height: 1 });
    expect(imageSize(ihdr(0x8000_0000, 1))).toBeUndefined();
    expect(imageSize(ihdr(1, 0xffff_ffff))).toBeUndefined();
    expect(imageSize(ihdr(0, 480))).toBeUndefined();
    expect(imageSize(ihdr(640, 0))).toBeUndefined();
  });

  it('refuses a PNG whose first chunk is not a 13-byte IHDR', () => {
    // Prepare
    const file = png(640, 480);
    const renamed = file.slice();
    renamed.set(bytes('IHDX'), 12);
    const resized = file.slice();
    resized.set(be32(14), 8);

    // Act + Assess
    expect(imageSize(renamed)).toBeUndefined();
    expect(imageSize(resized)).toBeUndefined();
  });

  it('refuses a file whose PNG signature is off by one byte', () => {
    // Prepare
    const file = png(640, 480);
    const broken = file.slice();
    broken[6] = 0x0d; // the signature's \x1a, as a line-ending conversion would mangle it

    // Act + Assess
    expect(imageSize(broken)).toBeUndefined();
  });
});

describe('imageSize: JPEG', () => {
  it('reads the baseline frame header after APP0 and DQT', () => {
    // Prepare
    const file = jpeg(JFIF, DQT, sof(0xc0, 640, 480), DHT);

    // Act
    const size = imageSize(file);

    // Assess
    expect(size).toEqual({ type: 'jpeg', width: 640, height: 480 });
  });

  it('skips an EXIF APP1 segment by its length, ignoring marker-like bytes inside it', () => {
    // Prepare: the EXIF payload ends with FF C0 … declaring 16×16
    const file = jpeg(EXIF, JFIF, sof(0xc0, 640, 480));

    // Act + Assess
    expect(imageSize(file)).toEqual({ type: 'jpeg', width: 640, height: 480 });
  });

  it('skips a 60 KB application segment and still finds the frame inside the first 64 KB', () => {
    // Prepare
    const file = jpeg(JFIF, segment(0xe2, 'ICC_PROFILE\0', filled(60_000, 0xc0)), sof(0xc2, 4032, 3024));

    // Act + Assess
    expect(imageSize(file.subarray(0, 64 * 1024))).toEqual({ type: 'jpeg', width: 4032, height: 3024 });
  });

  it('recognises every SOF marker (SOF0–SOF15) but never DHT (C4), JPG (C8) or DAC (CC)', () => {
    // Prepare: the look-alike segments carry a payload that would read as 9×9 if taken for a frame
    const lookAlike = (marker: number) => segment(marker, [8], be16(9), be16(9), [1, 1, 0x11, 0]);
    const frames = [0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf];

    // Act + Assess
    for (const marker of frames) {
      expect(imageSize(jpeg(JFIF, sof(marker, 1, 65535))), marker.toString(16)).toEqual({
        type: 'jpeg',
        width: 1,
        height: 65535,
      });
    }
    const file = jpeg(lookAlike(0xc4), lookAlike(0xc8), lookAlike(0xcc), sof(0xc0, 640, 480));
    expect(imageSize(file)).toEqual({ type: 'jpeg', width: 640, height: 480 });
  });

  it('skips fill bytes (extra FFs) before markers and standalone markers without a length', () => {
    // Prepare: FF FF FF E0 …, then TEM, RST0, RST7 and a repeated SOI, each only two bytes
    const file = bytes(
      [0xff, 0xd8, 0xff, 0xff],
      JFIF,
      [0xff, 0x01, 0xff, 0xd0, 0xff, 0xff, 0xd7, 0xff, 0xd8],
      filled(5, 0xff),
      sof(0xc0, 640, 480),
    );

    // Act + Assess
    expect(imageSize(file)).toEqual({ type: 'jpeg', width: 640, height: 480 });
  });

  it('returns undefined when a segment length points past the end of the bytes', () => {
    // Prepare: APP1 claims 65535 bytes but the file ends long before, frame header or not
    const lying = bytes([0xff, 0xd8], JFIF, [0xff, 0xe1, 0xff, 0xff], 'Exif\0\0', [0xff, 0xc0]);
    const swallowed = bytes([0xff, 0xd8], [0xff, 0xe1, 0x01, 0x00], sof(0xc0, 640, 480));

    // Act + Assess
    expect(imageSize(lying)).toBeUndefined();
    expect(imageSize(swallowed)).toBeUndefined();
  });

  it('returns undefined for malformed marker streams instead of guessing', () => {
    // Prepare
    const cases = {
      // (each would reach the frame header if the bad bytes were read as a 2-byte segment)
      'a segment not starting with FF': bytes([0xff, 0xd8], JFIF, [0xe0, 0x00, 0x02], sof(0xc0, 640, 480)),
      'stuffed zero as a marker': bytes([0xff, 0xd8], [0xff, 0x00, 0x00, 0x02], sof(0xc0, 640, 480)),
      'length below 2': bytes([0xff, 0xd8], [0xff, 0xe0, 0x00, 0x01], sof(0xc0, 640, 480)),
      'zero length': bytes([0xff, 0xd8], [0xff, 0xe0, 0x00, 0x00], sof(0xc0, 640, 480)),
      'frame header shorter than its fields': bytes([0xff, 0xd8], [0xff, 0xc0, 0x00, 0x07, 8, 1, 0, 1, 0]),
      'scan before any frame': bytes([0xff, 0xd8], JFIF, SOS, sof(0xc0, 640, 480)),
      'end of image before any frame': bytes([0xff, 0xd8], JFIF, EOI, [0x00, 0x02], sof(0xc0, 640, 480)),
      'only fill bytes': bytes([0xff, 0xd8], filled(64 * 1024, 0xff)),
      'only standalone markers': bytes([0xff, 0xd8], ...Array.from({ length: 16_000 }, () => [0xff, 0xd0])),
      'height defined later by DNL (0)': jpeg(JFIF, sof(0xc0, 640, 0)),
      'zero width': jpeg(JFIF, sof(0xc0, 0, 480)),
    };

    // Act + Assess
    for (const [name, file] of Object.entries(cases)) expect(imageSize(file), name).toBeUndefined();
  });
});

describe('imageSize: GIF', () => {
  it('reads the logical screen size of GIF87a and GIF89a (little-endian)', () => {
    // Prepare
    const old = gif('87a', 640, 480);
    const current = gif('89a', 1, 65535);

    // Act + Assess
    expect(imageSize(old)).toEqual({ type: 'gif', width: 640, height: 480 });
    expect(imageSize(current)).toEqual({ type: 'gif', width: 1, height: 65535 });
  });

  it('refuses unknown GIF versions and an empty logical screen', () => {
    // Prepare
    const unknownVersion = bytes('GIF88a', le16(640), le16(480), [0, 0, 0, 0x3b]);
    const empty = gif('89a', 0, 0);

    // Act + Assess
    expect(imageSize(unknownVersion)).toBeUndefined();
    expect(imageSize(empty)).toBeUndefined();
  });
});

describe('imageSize: WebP', () => {
  it('reads a lossy (VP8) key frame, ignoring the two scaling bits above each 14-bit size', () => {
    // Prepare
    const plain = vp8(640, 480);
    const scaled = vp8(640, 480, { hScale: 3, vScale: 1 });

    // Act + Assess
    expect(imageSize(plain)).toEqual({ type: 'webp', width: 640, height: 480 });
    expect(imageSize(scaled)).toEqual({ type: 'webp', width: 640, height: 480 });
    expect(imageSize(vp8(16383, 1))).toEqual({ type: 'webp', width: 16383, height: 1 });
  });

  it('refuses a VP8 frame that is not a key frame or lacks the start code', () => {
    // Prepare
    const interFrame = vp8(640, 480);
    interFrame[20] = 0x11;
    const noStartCode = vp8(640, 480);
    noStartCode[24] = 0x02;

    // Act + Assess
    expect(imageSize(interFrame)).toBeUndefined();
    expect(imageSize(noStartCode)).toBeUndefined();
  });

  it('reads a lossless (VP8L) header across its bit-packed 14-bit fields', () => {
    // Prepare
    const cases = [
      [640, 480],
      [1, 1],
      [1, 16384],
      [16384, 1],
      [16384, 16384],
      [12345, 6789],
    ] as const;

    // Act + Assess
    for (const [width, height] of cases) {
      expect(imageSize(vp8l(width, height, { alpha: 1 }))).toEqual({ type: 'webp', width, height });
    }
  });

  it('refuses a VP8L header with a wrong signature or a non-zero version', () => {
    // Prepare
    const badSignature = vp8l(640, 480);
    badSignature[20] = 0x2e;
    const futureVersion = vp8l(640, 480, { version: 1 });

    // Act + Assess
    expect(imageSize(badSignature)).toBeUndefined();
    expect(imageSize(futureVersion)).toBeUndefined();
  });

  it('reads an extended (VP8X) canvas size stored as 24-bit values minus one', () => {
    // Prepare
    const file = vp8x(640, 480);
    const huge = vp8x(1, 1 << 24);

    // Act + Assess
    expect(imageSize(file)).toEqual({ type: 'webp', width: 640, height: 480 });
    expect(imageSize(huge)).toEqual({ type: 'webp', width: 1, height: 16_777_216 });
  });

  it('refuses RIFF files that are not WebP and WebP files with an unknown first chunk', () => {
    // Prepare
    const wave = vp8x(640, 480);
    wave.set(bytes('WAVE'), 8);
    const unknownChunk = riff('VP8Z', filled(20, 0x10));

    // Act + Assess
    expect(imageSize(wave)).toBeUndefined();
    expect(imageSize(unknownChunk)).toBeUndefined();
  });
});

describe('imageSize: hostile and unknown input', () => {
  it('returns undefined for empty input and for other formats', () => {
    // Prepare
    const cases = {
      empty: new Uint8Array(0),
      text: bytes('hello, world, this is not an image at all'),
      pdf: bytes('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n'),
      bmp: bytes('BM', le32(70), le32(0), le32(54), le32(40), le32(640), le32(480)),
      svg: bytes('<svg xmlns="http://www.w3.org/2000/svg" width="640" height="480"/>'),
      zeros: new Uint8Array(100),
    };

    // Act + Assess
    for (const [name, file] of Object.entries(cases)) expect(imageSize(file), name).toBeUndefined();
  });

  it('returns undefined for every truncation of a valid header, and the size once enough bytes are there', () => {
    for (const { name, file, size, needed } of fixtures) {
      // Prepare: the full file is valid
      expect(imageSize(file), name).toEqual(size);

      for (let length = 0; length <= file.length; length++) {
        // Act
        const result = imageSize(file.subarray(0, length));

        // Assess
        if (length < needed) expect(result, `${name} cut at ${length}`).toBeUndefined();
        else expect(result, `${name} cut at ${length}`).toEqual(size);
      }
    }
  });

  it('never throws on thousands of random inputs, with or without a valid magic number in front', () => {
    // Prepare
    const next = random(0x5eed);
    const magics = [
      '',
      '\x89PNG\r\n\x1a\n',
      '\xff\xd8',
      '\xff\xd8\xff',
      'GIF89a',
      'RIFF\0\0\0\0WEBPVP8 ',
      'RIFF\0\0\0\0WEBPVP8L',
      'RIFF\0\0\0\0WEBPVP8X',
    ];
    const types = { '\x89': 'png', '\xff': 'jpeg', G: 'gif', R: 'webp' } as Record<string, string>;
    let recognised = 0;

    for (let i = 0; i < 4000; i++) {
      const magic = magics[i % magics.length] ?? '';
      // Mostly FF and small bytes now and then, so JPEG marker walks get deep
      const noise = Uint8Array.from({ length: Math.floor(next() * 300) }, () =>
        next() < 0.25 ? 0xff : Math.floor(next() * 256),
      );
      const input = bytes(magic, noise);

      // Act
      const result = imageSize(input);

      // Assess
      if (result !== undefined) {
        recognised++;
        expect(result.type).toBe(types[magic.charAt(0)]);
        expect(Number.isInteger(result.width) && result.width >= 1).toBe(true);
        expect(Number.isInteger(result.height) && result.height >= 1).toBe(true);
      }
    }
    expect(recognised).toBeGreaterThan(0);
  });

  it('never throws on valid files with random bytes overwritten', () => {
    // Prepare
    const next = random(42);

    for (let i = 0; i < 3000; i++) {
      const fixture = fixtures[i % fixtures.length];
      if (fixture === undefined) throw new Error('no fixture');
      const file = fixture.file.slice(0, Math.min(fixture.file.length, 200));
      for (let flips = 1 + Math.floor(next() * 4); flips > 0; flips--) {
        file[Math.floor(next() * file.length)] = Math.floor(next() * 256);
      }

      // Act + Assess
      expect(() => imageSize(file)).not.toThrow();
    }
  });

  it('answers quickly for a 64 KB buffer of nothing but JPEG fill bytes', () => {
    // Prepare
    const file = bytes([0xff, 0xd8], filled(64 * 1024 - 2, 0xff));
    const started = performance.now();

    // Act
    const result = imageSize(file);

    // Assess
    expect(result).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(100);
  });
});
