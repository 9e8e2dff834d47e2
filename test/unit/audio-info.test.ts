import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { type AudioContainer, audioContainer, audioDurationMs } from '../../shared/domain/audio-info.ts';

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
const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
const u64 = (n: bigint, littleEndian: boolean) => {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt.asUintN(64, n), littleEndian);
  return new Uint8Array(view.buffer);
};
const float = (n: number, size: 4 | 8) => {
  const view = new DataView(new ArrayBuffer(size));
  if (size === 4) view.setFloat32(0, n);
  else view.setFloat64(0, n);
  return new Uint8Array(view.buffer);
};
const filled = (length: number, value: number) => new Uint8Array(length).fill(value);
/** Deterministic PRNG (mulberry32): frame data that looks like compressed audio, replayable. */
const noise = (length: number, seed: number) => {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), seed | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    out[i] = (t ^ (t >>> 14)) >>> 24;
  }
  return out;
};
const KB64 = 64 * 1024;
/** What the server reads: the first and the last 64 KB (the same bytes for a small file). */
const headAndTail = (file: Uint8Array) => [file.subarray(0, KB64), file.subarray(-KB64)] as const;
const duration = (container: AudioContainer, file: Uint8Array) =>
  audioDurationMs(container, ...headAndTail(file));

// --- WebM: EBML elements ------------------------------------------------------------------------------------

/** Big-endian, as few bytes as the value needs (at least one). */
const uintBytes = (n: number) => {
  const out: number[] = [];
  for (let v = n; v > 0 || out.length === 0; v = Math.floor(v / 256)) out.unshift(v % 256);
  return out;
};
/** An EBML size: the shortest variable-length integer (the all-ones value is reserved for "unknown"). */
const vsize = (n: number) => {
  let length = 1;
  while (n >= 2 ** (7 * length) - 1) length++;
  const out = uintBytes(n);
  while (out.length < length) out.unshift(0);
  out[0] = (out[0] ?? 0) | (0x80 >> (length - 1));
  return out;
};
const UNKNOWN_SIZE = [0x01, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff];
const el = (id: number, ...payload: Part[]) => {
  const body = bytes(...payload);
  return bytes(uintBytes(id), vsize(body.length), body);
};
/** An element as a live writer streams it: size unknown, children until the next top-level element. */
const streamed = (id: number, ...payload: Part[]) => bytes(uintBytes(id), UNKNOWN_SIZE, ...payload);

const SEGMENT = 0x18538067;
const CLUSTER = 0x1f43b675;
const CLUSTER_ID = [0x1f, 0x43, 0xb6, 0x75];
const ebmlHeader = (docType = 'webm') =>
  el(
    0x1a45dfa3,
    el(0x4286, [1]), // EBMLVersion
    el(0x42f7, [1]), // EBMLReadVersion
    el(0x42f2, [4]), // EBMLMaxIDLength
    el(0x42f3, [8]), // EBMLMaxSizeLength
    el(0x4282, docType),
    el(0x4287, [4]), // DocTypeVersion
    el(0x4285, [2]), // DocTypeReadVersion
  );
const opusHead = (preSkip: number) => bytes('OpusHead', [1, 1], le16(preSkip), le32(48_000), le16(0), [0]);
const info = ({ scale, duration }: { scale?: number; duration?: Uint8Array }) =>
  el(
    0x1549a966,
    scale === undefined ? [] : el(0x2ad7b1, uintBytes(scale)),
    el(0x4d80, 'Chrome'), // MuxingApp
    el(0x5741, 'Chrome'), // WritingApp
    duration === undefined ? [] : el(0x4489, duration),
  );
const tracks = el(
  0x1654ae6b,
  el(
    0xae, // TrackEntry
    el(0xd7, [1]), // TrackNumber
    el(0x73c5, uintBytes(0x2f5a)), // TrackUID
    el(0x83, [2]), // TrackType: audio
    el(0x86, 'A_OPUS'),
    el(0x63a2, opusHead(312)),
    el(0xe1, el(0xb5, float(48_000, 8)), el(0x9f, [1])), // Audio: sampling frequency, channels
  ),
);
/** SimpleBlock: track number 1 (vint 81) | relative timecode (int16 BE) | flags (keyframe) | frame */
const simpleBlock = (relative: number, frame: Part) => el(0xa3, [0x81], be16(relative), [0x80], frame);
/** BlockGroup > Block (same layout, no flags meaning) and a BlockDuration. */
const blockGroup = (relative: number, frame: Part) =>
  el(0xa0, el(0xa1, [0x81], be16(relative), [0x00], frame), el(0x9b, [20]));
const cluster = (timecode: number, blocks: readonly Uint8Array[], { known = false } = {}) =>
  (known ? el : streamed)(CLUSTER, el(0xe7, uintBytes(timecode)), ...blocks);
/** Chrome's MediaRecorder layout: a streamed Segment, Info without Duration, streamed Clusters. */
const webm = (clusters: readonly Uint8Array[], fields: { scale?: number; duration?: Uint8Array } = {}) =>
  bytes(ebmlHeader(), streamed(SEGMENT, info({ scale: 1_000_000, ...fields }), tracks, ...clusters));
/** Opus frames every 20 ms from `from` to `to` (inclusive), relative to their cluster. */
const frames = (from: number, to: number, size: number) => {
  const out: Uint8Array[] = [];
  for (let t = from; t <= to; t += 20) out.push(simpleBlock(t, noise(size, t + 1)));
  return out;
};
/** A 40-second recording at 32 kbps: clusters of 2 s, 80-byte frames, 166 KB in all. */
const longWebm = () =>
  webm(Array.from({ length: 20 }, (_, i) => cluster(i * 2000, frames(0, 1980, 76 + (i % 3)))));

// --- Ogg: pages ---------------------------------------------------------------------------------------------

const BOS = 0x02;
const EOS = 0x04;
/** A page: "OggS" | 0 | flags | granule (LE) | serial | sequence | CRC (left 0) | lacing | packets */
const page = (
  granule: bigint,
  packets: readonly Uint8Array[],
  { flags = 0, serial = 0x0c0ffee, sequence = 0 } = {},
) => {
  const lacing = packets.flatMap((packet) => [
    ...Array.from({ length: Math.floor(packet.length / 255) }, () => 255),
    packet.length % 255,
  ]);
  return bytes(
    'OggS',
    [0, flags],
    u64(granule, true),
    le32(serial),
    le32(sequence),
    le32(0),
    [lacing.length],
    lacing,
    ...packets,
  );
};
const OPUS_TAGS = bytes('OpusTags', le32(6), 'Chrome', le32(0));
/** Opus at 48 kHz: one page per second (50 packets of 20 ms), the last holding `lastMs` of audio. */
const opus = (seconds: number, lastMs: number, preSkip: number) => {
  const audio = Array.from({ length: seconds }, (_, i) => {
    const last = i === seconds - 1;
    const samples = BigInt(preSkip) + BigInt(i * 48_000 + (last ? lastMs * 48 : 48_000));
    const packets = Array.from({ length: last ? Math.ceil(lastMs / 20) : 50 }, (_, j) =>
      noise(60, i * 100 + j),
    );
    return page(samples, packets, { flags: last ? EOS : 0, sequence: i + 2 });
  });
  return bytes(
    page(0n, [opusHead(preSkip)], { flags: BOS }),
    page(0n, [OPUS_TAGS], { sequence: 1 }),
    ...audio,
  );
};
const vorbisId = (rate: number) =>
  bytes([1], 'vorbis', le32(0), [2], le32(rate), le32(0), le32(128_000), le32(0), [0xb8], [1]);
const vorbis = (rate: number, samples: bigint) =>
  bytes(
    page(0n, [vorbisId(rate)], { flags: BOS }),
    page(0n, [bytes([3], 'vorbis', le32(0), le32(0), [1]), bytes([5], 'vorbis', noise(300, 7))], {
      sequence: 1,
    }),
    page(samples / 2n, [noise(400, 1), noise(400, 2)], { sequence: 2 }),
    page(samples, [noise(400, 3), noise(100, 4)], { flags: EOS, sequence: 3 }),
  );

// --- MP4: boxes ---------------------------------------------------------------------------------------------

const box = (type: string, ...payload: Part[]) => {
  const body = bytes(...payload);
  return bytes(be32(8 + body.length), type, body);
};
const MATRIX = bytes(
  be32(0x10000),
  be32(0),
  be32(0),
  be32(0),
  be32(0x10000),
  be32(0),
  be32(0),
  be32(0),
  be32(0x40000000),
);
/** mvhd v0: version/flags | creation | modification | timescale | duration (32-bit) | rate, volume, … */
const mvhd0 = (timescale: number, length: number) =>
  box(
    'mvhd',
    [0, 0, 0, 0],
    be32(0),
    be32(0),
    be32(timescale),
    be32(length),
    be32(0x10000),
    be16(0x100),
    filled(10, 0),
    MATRIX,
    filled(24, 0),
    be32(2),
  );
/** mvhd v1: 64-bit times and duration. */
const mvhd1 = (timescale: number, length: bigint) =>
  box(
    'mvhd',
    [1, 0, 0, 0],
    u64(0n, false),
    u64(0n, false),
    be32(timescale),
    u64(length, false),
    be32(0x10000),
    be16(0x100),
    filled(10, 0),
    MATRIX,
    filled(24, 0),
    be32(2),
  );
const FTYP = box('ftyp', 'M4A ', be32(0), 'M4A ', 'mp42', 'isom');
const moov = (mvhd: Uint8Array) =>
  box(
    'moov',
    mvhd,
    box('trak', box('tkhd', filled(84, 0)), box('mdia', box('mdhd', filled(24, 0)))),
    box('udta', filled(40, 0)),
  );
/** The usual recorder layout: ftyp | mdat (`size` bytes of AAC) | moov at the end. */
const m4a = (mvhd: Uint8Array, size = 100_000) => bytes(FTYP, box('mdat', noise(size, 9)), moov(mvhd));

// --- Valid samples, for the mutation properties -------------------------------------------------------------

const samples: readonly { container: AudioContainer; file: Uint8Array; ms: number }[] = [
  {
    container: 'webm',
    file: webm([cluster(0, frames(0, 100, 12)), cluster(120, frames(0, 60, 12), { known: true })]),
    ms: 180,
  },
  { container: 'webm', file: webm([cluster(0, frames(0, 40, 8))], { duration: float(1234.5, 8) }), ms: 1235 },
  { container: 'ogg', file: opus(2, 500, 312), ms: 1500 },
  { container: 'ogg', file: vorbis(44_100, 66_150n), ms: 1500 },
  { container: 'mp4', file: m4a(mvhd0(44_100, 66_150), 200), ms: 1500 },
  { container: 'mp4', file: bytes(FTYP, moov(mvhd1(1000, 1500n)), box('mdat', noise(200, 3))), ms: 1500 },
];

/** The contract for any input: undefined, or a whole number of ms in (0, 24 h]. */
const expectSane = (result: number | undefined) => {
  if (result === undefined) return;
  expect(Number.isInteger(result)).toBe(true);
  expect(result).toBeGreaterThan(0);
  expect(result).toBeLessThanOrEqual(86_400_000);
};

describe('audioContainer', () => {
  it('recognises WebM, Ogg and MP4 from the first bytes', () => {
    // Prepare
    const cases = {
      webm: longWebm(),
      ogg: opus(1, 100, 312),
      mp4: m4a(mvhd0(1000, 1000), 10),
    };

    // Act + Assess
    for (const [container, file] of Object.entries(cases)) {
      expect(audioContainer(file.subarray(0, KB64)), container).toBe(container);
    }
    expect(audioContainer(bytes(ebmlHeader(), filled(4, 0xff)))).toBe('webm');
    expect(audioContainer(bytes('OggS'))).toBe('ogg');
    expect(audioContainer(bytes(be32(20), 'ftypM4A ', be32(0), 'M4A '))).toBe('mp4');
    expect(audioContainer(bytes(el(0x1a45dfa3, el(0x4282, 'webm\0\0'))))).toBe('webm'); // zero-padded string
  });

  it('refuses other EBML documents, unknown formats and truncated magic numbers', () => {
    // Prepare
    const header = ebmlHeader();
    const cases = {
      empty: new Uint8Array(0),
      matroska: ebmlHeader('matroska'),
      'webm-ish DocType': ebmlHeader('webmx'),
      'EBML header cut before its DocType': header.subarray(0, header.length - 12),
      'EBML magic alone': bytes([0x1a, 0x45, 0xdf, 0xa3]),
      'Ogg cut': bytes('Ogg'),
      'ftyp at offset 0': bytes('ftypM4A '),
      'ftyp box shorter than a box header': bytes(be32(4), 'ftyp'),
      wave: bytes('RIFF', le32(36), 'WAVEfmt '),
      mp3: bytes('ID3', [4, 0, 0], filled(20, 0)),
      zeros: new Uint8Array(100),
    };

    // Act + Assess
    for (const [name, head] of Object.entries(cases)) expect(audioContainer(head), name).toBeUndefined();
  });
});

describe('audioDurationMs: WebM', () => {
  it('reads Info > Duration (float64 or float32) times the timecode scale', () => {
    // Prepare
    const blocks = [cluster(0, frames(0, 100, 10))];
    const msTicks = webm(blocks, { duration: float(61_234.4, 8) });
    const float32 = webm(blocks, { duration: float(2500, 4) });
    const microTicks = webm(blocks, { scale: 1000, duration: float(4_321_000, 8) }); // 1 µs ticks

    // Act + Assess
    expect(duration('webm', msTicks)).toBe(61_234);
    expect(duration('webm', float32)).toBe(2500);
    expect(duration('webm', microTicks)).toBe(4321);
  });

  it('without a Duration (Chrome), takes the last cluster in the tail and its largest block timecode', () => {
    // Prepare: two streamed clusters; the last block of the second is not its latest
    const file = webm([
      cluster(0, frames(0, 980, 40)),
      cluster(1000, [...frames(0, 460, 40), simpleBlock(480, noise(40, 1)), simpleBlock(200, noise(40, 2))]),
    ]);

    // Act + Assess
    expect(audioDurationMs('webm', file, file)).toBe(1480);
  });

  it('reads a 40-second recording from its first and last 64 KB only', () => {
    // Prepare
    const file = longWebm();
    expect(file.length).toBeGreaterThan(2 * KB64);

    // Act + Assess: the last cluster starts at 38 s, its last frame at +1980 ms
    expect(duration('webm', file)).toBe(39_980);
  });

  it('reads known-size clusters, BlockGroups, negative block timecodes, a coarser scale, Cues and Tags after', () => {
    // Prepare
    const known = webm([
      cluster(0, frames(0, 200, 10), { known: true }),
      cluster(220, [blockGroup(-20, noise(10, 1)), blockGroup(300, noise(10, 2))], { known: true }),
    ]);
    const centiseconds = webm([cluster(0, frames(0, 40, 10)), cluster(50, [simpleBlock(-3, [1])])], {
      scale: 10_000_000,
    });

    // a streamed last cluster ends at the next top-level element: Cues and Tags after the media
    const cuesAndTags = bytes(
      webm([cluster(0, frames(0, 100, 10)), cluster(120, frames(0, 80, 10))]),
      el(0x1c53bb6b, el(0xbb, el(0xb3, [0]), el(0xb7, el(0xf7, [1]), el(0xf1, [0x40])))),
      el(0x1254c367, el(0x7373, el(0x67c8, el(0x45a3, 'ENCODER'), el(0x4487, 'test')))),
    );

    // Act + Assess
    expect(duration('webm', known)).toBe(520);
    expect(duration('webm', centiseconds)).toBe(470); // (50 - 3) × 10 ms
    expect(duration('webm', cuesAndTags)).toBe(200);
  });

  it('ignores Cluster ID bytes inside frame data and falls back to the last consistent cluster', () => {
    // Prepare: the last frame of the last cluster carries a would-be cluster (timecode 127 ticks in)
    const fakes = [
      bytes(CLUSTER_ID, [0x81], [0xe7, 0x81, 0x7f]), // size 1 cannot hold its timecode
      bytes(CLUSTER_ID, UNKNOWN_SIZE, [0xe7, 0x81, 0x7f], [0x00, 0x42]), // 00 starts no element
      bytes(CLUSTER_ID, UNKNOWN_SIZE, [0xe7, 0x81, 0x7f], [0xa3, 0x85, 0x81, 0x00]), // block runs past the end
      bytes(CLUSTER_ID, UNKNOWN_SIZE, [0x42, 0x81, 0x7f]), // no Timecode first
      bytes(CLUSTER_ID, UNKNOWN_SIZE, [0xe7, 0x81, 0x7f], [0x86, 0x80]), // a child no cluster holds
    ];

    for (const fake of fakes) {
      const file = webm([
        cluster(0, frames(0, 980, 30)),
        cluster(1000, [...frames(0, 480, 30), simpleBlock(500, fake)]),
      ]);

      // Act + Assess
      expect(duration('webm', file)).toBe(1500);
    }
  });

  it('falls back to the clusters when the written Duration is zero or not a number', () => {
    // Prepare
    const blocks = [cluster(0, frames(0, 80, 10)), cluster(100, frames(0, 100, 10))];

    // Act + Assess
    expect(duration('webm', webm(blocks, { duration: float(0, 8) }))).toBe(200);
    expect(duration('webm', webm(blocks, { duration: float(Number.NaN, 8) }))).toBe(200);
  });

  it('returns undefined when neither the head nor the tail says the duration', () => {
    // Prepare
    const file = longWebm();
    const [head] = headAndTail(file);
    const cases = {
      'no cluster in the tail': [head, file.subarray(-20)],
      'a head that is not WebM': [bytes('OggS', filled(60, 0)), file],
      'an EBML header without Segment': [ebmlHeader(), file],
      'a zero timecode scale': [webm([], { scale: 0 }), file],
      'a Duration above 24 h': [webm([], { duration: float(86_400_001, 8) }), new Uint8Array(0)],
      'only a first cluster at 0 ms': [head, webm([cluster(0, [simpleBlock(0, [1])])])],
    } as const;

    // Act + Assess
    for (const [name, [h, t]] of Object.entries(cases))
      expect(audioDurationMs('webm', h, t), name).toBeUndefined();
  });
});

describe('audioDurationMs: Ogg', () => {
  it('reads Opus: the last granule minus the pre-skip, in 48 kHz samples', () => {
    // Prepare
    const short = opus(3, 500, 312);
    const long = opus(90, 240, 3840);
    expect(long.length).toBeGreaterThan(2 * KB64);

    // Act + Assess
    expect(duration('ogg', short)).toBe(2500);
    expect(duration('ogg', long)).toBe(89_240);
  });

  it('reads Vorbis: the last granule over the sample rate of the identification header', () => {
    // Act + Assess
    expect(duration('ogg', vorbis(44_100, 154_350n))).toBe(3500);
    expect(duration('ogg', vorbis(8000, 8006n))).toBe(1001); // 1000.75 ms, rounded
  });

  it('skips a last page without granule (-1), truncated pages and pages of another stream', () => {
    // Prepare
    const base = opus(2, 500, 312);
    const noGranule = bytes(base, page(-1n, [noise(300, 5)], { sequence: 9 }));
    const otherStream = bytes(base, page(999_999n, [noise(30, 6)], { serial: 7 }));
    const truncated = bytes(base, page(999_999n, [noise(300, 7)]).subarray(0, 200));

    // Act + Assess
    expect(duration('ogg', noGranule)).toBe(1500);
    expect(duration('ogg', otherStream)).toBe(1500);
    expect(duration('ogg', truncated)).toBe(1500);
  });

  it('returns undefined for codecs it does not know, headers only, or no page in the tail', () => {
    // Prepare
    const flac = bytes(
      page(0n, [bytes([0x7f], 'FLAC', [1, 0], be16(1), 'fLaC', filled(38, 0))], { flags: BOS }),
      page(48_000n, [noise(100, 1)]),
    );
    const headersOnly = bytes(
      page(0n, [opusHead(312)], { flags: BOS }),
      page(0n, [OPUS_TAGS], { flags: EOS }),
    );
    const vorbisRate0 = vorbis(0, 1000n);
    const file = opus(3, 500, 312);

    // Act + Assess
    expect(duration('ogg', flac)).toBeUndefined();
    expect(duration('ogg', headersOnly)).toBeUndefined(); // granule 0 − pre-skip ≤ 0
    expect(duration('ogg', vorbisRate0)).toBeUndefined();
    expect(audioDurationMs('ogg', file, noise(1000, 3))).toBeUndefined();
    expect(audioDurationMs('ogg', file.subarray(0, 30), file)).toBeUndefined(); // OpusHead cut
  });
});

describe('audioDurationMs: MP4', () => {
  it('reads a version 0 mvhd from a moov found only in the tail', () => {
    // Prepare
    const file = m4a(mvhd0(44_100, 2_646_000));
    const [head, tail] = headAndTail(file);

    // Act + Assess
    expect(audioDurationMs('mp4', head, tail)).toBe(60_000);
    expect(audioDurationMs('mp4', head, head)).toBeUndefined(); // the head alone does not say it
  });

  it('reads a version 1 mvhd (64-bit duration), after another moov child', () => {
    // Prepare
    const mvhd = mvhd1(48_000, 48_000n * 95n + 48n);
    const file = bytes(FTYP, box('mdat', noise(100_000, 4)), box('moov', box('iods', filled(16, 0)), mvhd));

    // Act + Assess
    expect(duration('mp4', file)).toBe(95_001);
  });

  it('reads a fast-start moov from the head, after a 64-bit-size box', () => {
    // Prepare: free box with size 1 and a 64-bit size of 24
    const free = bytes(be32(1), 'free', u64(24n, false), filled(8, 0));
    const file = bytes(FTYP, free, moov(mvhd0(1000, 12_345)), box('mdat', noise(100_000, 5)));

    // Act + Assess
    expect(duration('mp4', file)).toBe(12_345);
  });

  it('reads a last moov whose size is 0 (it runs to the end of the file)', () => {
    // Prepare
    const sized = moov(mvhd0(600, 1500));
    const file = bytes(FTYP, box('mdat', noise(100_000, 6)), be32(0), sized.subarray(4));

    // Act + Assess
    expect(duration('mp4', file)).toBe(2500);
  });

  it('returns undefined for a zero, unknown (all ones) or over-long duration, or a zero timescale', () => {
    // Prepare
    const cases = {
      'fragmented: duration 0': m4a(mvhd0(1000, 0), 100),
      'unknown v0': m4a(mvhd0(90_000, 0xffffffff), 100),
      'unknown v1': m4a(mvhd1(1000, -1n), 100),
      'timescale 0': m4a(mvhd0(0, 1000), 100),
      'above 24 h': m4a(mvhd0(1, 86_401), 100),
      'mvhd version 2': m4a(bytes(mvhd0(1000, 1000).subarray(0, 8), [2], mvhd0(1000, 1000).subarray(9)), 100),
      'mvhd box cut short': m4a(box('mvhd', [0, 0, 0, 0], be32(0), be32(0), be32(1000)), 100),
      'no moov': bytes(FTYP, box('mdat', noise(1000, 6))),
    };

    // Act + Assess
    for (const [name, file] of Object.entries(cases)) expect(duration('mp4', file), name).toBeUndefined();
  });
});

describe('audioDurationMs: hostile input', () => {
  it('returns undefined for empty, garbage and mismatched input', () => {
    // Prepare
    const empty = new Uint8Array(0);
    const garbage = noise(5000, 11);
    const containers: AudioContainer[] = ['webm', 'ogg', 'mp4'];

    // Act + Assess
    for (const container of containers) {
      expect(audioDurationMs(container, empty, empty), container).toBeUndefined();
      expect(audioDurationMs(container, garbage, garbage), container).toBeUndefined();
    }
    expect(duration('ogg', longWebm())).toBeUndefined();
    expect(duration('webm', opus(2, 500, 312))).toBeUndefined();
    expect(audioDurationMs('flac' as AudioContainer, empty, empty)).toBeUndefined();
  });

  it('answers quickly for 64 KB tails built to make every candidate walk to the end', () => {
    // Prepare: 1000 Void elements, each holding a cluster header whose Timecode ends where the next Void starts,
    // then plain Voids, then an element running past the end: each would-be cluster walks all the Voids after
    // it before failing.
    const voids = bytes(
      ...Array.from({ length: 3800 }, (_, i) =>
        i < 1000
          ? bytes([0xec, 0x8f], CLUSTER_ID, UNKNOWN_SIZE, [0xe7, 0x81, 0x00])
          : el(0xec, filled(15, 0)),
      ),
      [0xec, 0x85, 0x00],
    );
    // 1000 16-byte 'free' boxes each holding a 'moov' header that spans to the end, then plain 'free' boxes:
    // each moov walks all the boxes after it and finds no mvhd.
    const moovs = bytes(
      ...Array.from({ length: KB64 / 16 }, (_, i) =>
        i < 1000 ? bytes(be32(16), 'free', be32(KB64 - 16 * i - 8), 'moov') : box('free', filled(8, 0)),
      ),
    );
    const pages = bytes(
      ...Array.from({ length: 2400 }, () =>
        bytes('OggS', [0, 0], filled(8, 0), le32(1), filled(8, 0), [255], filled(255, 0)),
      ),
    ).subarray(0, KB64);
    const cases = [
      ['webm', webm([]), voids],
      ['mp4', FTYP, moovs],
      ['ogg', opus(1, 100, 312), pages],
      ['webm', webm([]), filled(KB64, 0x1f)],
      ['ogg', opus(1, 100, 312), bytes(...Array.from({ length: KB64 / 4 }, () => 'OggS'))],
    ] as const;

    for (const [container, head, tail] of cases) {
      const started = performance.now();

      // Act
      const result = audioDurationMs(container, head, tail);

      // Assess
      expectSane(result);
      expect(performance.now() - started, container).toBeLessThan(500);
    }
  });

  test.prop([
    fc.constantFrom<AudioContainer>('webm', 'ogg', 'mp4'),
    fc.uint8Array({ maxLength: 4096 }),
    fc.uint8Array({ maxLength: 4096 }),
  ])(
    'never throws on arbitrary bytes and answers undefined or a whole number of ms up to 24 h',
    (container, head, tail) => {
      const started = performance.now();
      expectSane(audioDurationMs(container, head, tail));
      expect(audioContainer(head) ?? 'none').toMatch(/^(webm|ogg|mp4|none)$/);
      expect(performance.now() - started).toBeLessThan(250);
    },
  );

  test.prop(
    [
      fc.constantFrom(...samples),
      fc.array(fc.tuple(fc.nat(), fc.nat(255)), { maxLength: 6 }),
      fc.nat(),
      fc.nat(),
    ],
    { numRuns: 500 },
  )('never throws on mutated or truncated valid files', (sample, edits, headCut, tailCut) => {
    // Prepare
    const file = sample.file.slice();
    for (const [at, value] of edits) file[at % file.length] = value;
    const head = file.subarray(0, headCut % (file.length + 1));
    const tail = file.subarray(file.length - (tailCut % (file.length + 1)));
    const started = performance.now();

    // Act
    const result = audioDurationMs(sample.container, head, tail);

    // Assess
    expectSane(result);
    expect([undefined, 'webm', 'ogg', 'mp4']).toContain(audioContainer(head));
    expect(performance.now() - started).toBeLessThan(250);
  });

  it('reads every valid sample whole (the mutation property starts from files that parse)', () => {
    for (const { container, file, ms } of samples) {
      expect(audioContainer(file), container).toBe(container);
      expect(audioDurationMs(container, file, file), container).toBe(ms);
    }
  });
});
