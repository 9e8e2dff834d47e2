/**
 * Container type and duration of an audio file (a voice message recorded with MediaRecorder) from its first
 * and last bytes, without decoding audio or any native dependency. Reads WebM, Ogg (Opus, Vorbis) and
 * MP4/M4A; anything else, truncated or malformed is `undefined`. Every read is bounds-checked, every loop
 * advances, and a scan of the tail validates at most a fixed number of candidates, so hostile uploads can
 * neither throw nor hang.
 */

export type AudioContainer = 'webm' | 'ogg' | 'mp4';

/** Durations above a day are refused: no voice message is that long, and the bytes are lying. */
const MAX_MS = 24 * 60 * 60 * 1000;
/** Candidates validated per tail scan (each validation may walk the whole tail). */
const MAX_CANDIDATES = 64;

const u8 = (bytes: Uint8Array, at: number): number | undefined => bytes[at];

/** Unsigned integer of 0–8 bytes; above 2^53 it loses precision, far past any duration accepted here. */
const uint = (bytes: Uint8Array, at: number, length: number, littleEndian = false): number | undefined => {
  if (at < 0 || length < 0 || length > 8 || at + length > bytes.length) return undefined;
  let value = 0;
  for (let i = 0; i < length; i++)
    value = value * 256 + (bytes[littleEndian ? at + length - 1 - i : at + i] ?? 0);
  return value;
};

const u16be = (bytes: Uint8Array, at: number) => uint(bytes, at, 2);
const u16le = (bytes: Uint8Array, at: number) => uint(bytes, at, 2, true);
const u32le = (bytes: Uint8Array, at: number) => uint(bytes, at, 4, true);
const u32be = (bytes: Uint8Array, at: number) => uint(bytes, at, 4);

const allOnes = (bytes: Uint8Array, at: number, length: number): boolean => {
  if (at + length > bytes.length) return false;
  for (let i = 0; i < length; i++) if (bytes[at + i] !== 0xff) return false;
  return true;
};

const startsWith = (bytes: Uint8Array, at: number, ascii: string): boolean => {
  if (at < 0 || at + ascii.length > bytes.length) return false;
  for (let i = 0; i < ascii.length; i++) if (bytes[at + i] !== ascii.charCodeAt(i)) return false;
  return true;
};

/** Milliseconds as reported: rounded, and only when positive, finite and at most a day. */
const toMs = (ms: number): number | undefined => {
  const rounded = Math.round(ms);
  return Number.isFinite(rounded) && rounded > 0 && rounded <= MAX_MS ? rounded : undefined;
};

// --- WebM (EBML) -----------------------------------------------------------------------------------------

const EBML = 0x1a45dfa3;
const DOC_TYPE = 0x4282;
const SEGMENT = 0x18538067;
const INFO = 0x1549a966;
const TIMECODE_SCALE = 0x2ad7b1;
const DURATION = 0x4489;
const CLUSTER = 0x1f43b675;
const TIMECODE = 0xe7;
const SIMPLE_BLOCK = 0xa3;
const BLOCK_GROUP = 0xa0;
const BLOCK = 0xa1;
const DEFAULT_TIMECODE_SCALE = 1_000_000; // ns per tick: 1 ms
/** Segment children: one of them after an unknown-size cluster ends it. */
const TOP_LEVEL = new Set([
  0x114d9b74, // SeekHead
  INFO,
  0x1654ae6b, // Tracks
  CLUSTER,
  0x1c53bb6b, // Cues
  0x1941a469, // Attachments
  0x1043a770, // Chapters
  0x1254c367, // Tags
]);
/** What a cluster holds besides blocks: SilentTracks, Position, PrevSize, EncryptedBlock, Void, CRC-32. */
const CLUSTER_OTHER = new Set([TIMECODE, 0x5854, 0xa7, 0xab, 0xaf, 0xec, 0xbf]);

/** An EBML variable-length integer: the leading zero bits of its first byte give its length (1–8). */
const vint = (bytes: Uint8Array, at: number, keepMarker: boolean) => {
  const first = u8(bytes, at);
  if (first === undefined || first === 0) return undefined;
  const length = Math.clz32(first) - 23;
  if (at + length > bytes.length) return undefined;
  const mask = (0x100 >> length) - 1;
  let value = keepMarker ? first : first & mask;
  let unknown = !keepMarker && (first & mask) === mask;
  for (let i = 1; i < length; i++) {
    const byte = bytes[at + i] ?? 0;
    value = value * 256 + byte;
    unknown &&= byte === 0xff;
  }
  return { value, length, unknown };
};

interface Element {
  readonly id: number;
  /** Where the payload starts. */
  readonly data: number;
  /** Payload size; `undefined` for the unknown size (all value bits set) streaming writers use. */
  readonly size: number | undefined;
}
type Sized = Element & { readonly size: number };

const element = (bytes: Uint8Array, at: number): Element | undefined => {
  const id = vint(bytes, at, true);
  if (id === undefined || id.length > 4) return undefined;
  const size = vint(bytes, at + id.length, false);
  if (size === undefined) return undefined;
  return { id: id.value, data: at + id.length + size.length, size: size.unknown ? undefined : size.value };
};

/** The children of an element of known size, as far as they are in `bytes`; stops at anything malformed. */
function* children(bytes: Uint8Array, parent: Element): Generator<Sized> {
  const end = Math.min(parent.data + (parent.size ?? Infinity), bytes.length);
  for (let at = parent.data; at < end;) {
    const child = element(bytes, at);
    if (child?.size === undefined) return;
    yield { ...child, size: child.size };
    at = child.data + child.size; // every element is at least two bytes long: this advances
  }
}

const float = (bytes: Uint8Array, at: number, size: number): number | undefined => {
  if ((size !== 4 && size !== 8) || at + size > bytes.length) return undefined;
  const view = new DataView(bytes.slice(at, at + size).buffer);
  return size === 4 ? view.getFloat32(0) : view.getFloat64(0);
};

const isWebm = (bytes: Uint8Array, at: number, size: number): boolean => {
  if (size < 4 || !startsWith(bytes, at, 'webm') || at + size > bytes.length) return false;
  for (let i = at + 4; i < at + size; i++) if (bytes[i] !== 0) return false; // EBML strings may be 0-padded
  return true;
};

interface WebmInfo {
  readonly scale: number;
  /** In ticks of `scale` ns. */
  readonly duration: number | undefined;
}

/** Segment > Info from the head: the timecode scale and the duration, if written (Chrome writes none). */
const webmInfo = (head: Uint8Array): WebmInfo | undefined => {
  const ebml = element(head, 0);
  if (ebml?.id !== EBML || ebml.size === undefined) return undefined;
  const segment = element(head, ebml.data + ebml.size);
  if (segment?.id !== SEGMENT) return undefined;
  for (const child of children(head, segment)) {
    if (child.id === CLUSTER) break; // Info comes before the media
    if (child.id !== INFO) continue;
    let scale: number | undefined = DEFAULT_TIMECODE_SCALE;
    let duration: number | undefined;
    for (const field of children(head, child)) {
      if (field.id === TIMECODE_SCALE) scale = uint(head, field.data, field.size);
      if (field.id === DURATION) duration = float(head, field.data, field.size);
    }
    return scale === undefined || scale === 0 ? undefined : { scale, duration };
  }
  return { scale: DEFAULT_TIMECODE_SCALE, duration: undefined };
};

/** A block's timecode relative to its cluster: int16 (BE) after the track number. */
const blockTimecode = (bytes: Uint8Array, block: Sized): number | undefined => {
  const track = vint(bytes, block.data, false);
  if (track === undefined || track.length + 2 > block.size) return undefined;
  const value = u16be(bytes, block.data + track.length);
  return value === undefined ? undefined : value >= 0x8000 ? value - 0x1_0000 : value;
};

/** The relative timecode of the Block inside a BlockGroup. */
const groupTimecode = (bytes: Uint8Array, group: Sized): number | undefined => {
  let found: number | undefined;
  for (const inner of children(bytes, group)) if (inner.id === BLOCK) found = blockTimecode(bytes, inner);
  return found;
};

/**
 * Cluster timecode plus its largest block timecode, in ticks, when `at` starts a consistent cluster: a
 * Timecode first, then children that tile it exactly (to its size, or for an unknown size to the next
 * top-level element or the end of the bytes). Cluster ID bytes that occur by chance in frame data fail this.
 */
const clusterEnd = (bytes: Uint8Array, at: number): number | undefined => {
  const cluster = element(bytes, at);
  if (cluster?.id !== CLUSTER) return undefined;
  const end = cluster.size === undefined ? bytes.length : cluster.data + cluster.size;
  const timecode = element(bytes, cluster.data);
  if (timecode?.id !== TIMECODE || timecode.size === undefined || timecode.size < 1) return undefined;
  const base = uint(bytes, timecode.data, timecode.size);
  let next = timecode.data + timecode.size;
  if (base === undefined || end > bytes.length || next > end) return undefined;
  let last: number | undefined;
  while (next < end) {
    const child = element(bytes, next);
    if (child === undefined) return undefined;
    if (cluster.size === undefined && TOP_LEVEL.has(child.id)) break;
    if (child.size === undefined || child.data + child.size > end) return undefined;
    next = child.data + child.size;
    if (child.id !== SIMPLE_BLOCK && child.id !== BLOCK_GROUP) {
      if (!CLUSTER_OTHER.has(child.id)) return undefined;
      continue;
    }
    const sized = { ...child, size: child.size };
    const block = child.id === SIMPLE_BLOCK ? blockTimecode(bytes, sized) : groupTimecode(bytes, sized);
    if (block === undefined) return undefined;
    last = Math.max(last ?? block, block);
  }
  return base + (last ?? 0);
};

/** The end of the media from the last consistent cluster in the tail, in ticks. */
const lastCluster = (tail: Uint8Array): number | undefined => {
  let tried = 0;
  for (let at = tail.length - 4; at >= 0 && tried < MAX_CANDIDATES; at--) {
    if (u32be(tail, at) !== CLUSTER) continue; // the 4-byte ID, marker bits included
    tried++;
    const ticks = clusterEnd(tail, at);
    if (ticks !== undefined) return ticks;
  }
  return undefined;
};

const webmDuration = (head: Uint8Array, tail: Uint8Array): number | undefined => {
  const info = webmInfo(head);
  if (info === undefined) return undefined;
  const ms = (ticks: number) => toMs((ticks * info.scale) / 1e6);
  const written = info.duration === undefined ? undefined : ms(info.duration);
  if (written !== undefined) return written;
  const ticks = lastCluster(tail);
  return ticks === undefined ? undefined : ms(ticks);
};

// --- Ogg ---------------------------------------------------------------------------------------------------

interface Page {
  /** `undefined` for -1: no packet ends on this page. */
  readonly granule: number | undefined;
  readonly serial: number;
  readonly data: number;
  /** Where the page ends; may lie past the bytes. */
  readonly end: number;
}

/** "OggS" | version 0 | flags | granule (8, LE) | serial (4) | sequence (4) | CRC (4) | n | n lacing values */
const oggPage = (bytes: Uint8Array, at: number): Page | undefined => {
  if (!startsWith(bytes, at, 'OggS') || u8(bytes, at + 4) !== 0) return undefined;
  const flags = u8(bytes, at + 5);
  const serial = u32le(bytes, at + 14);
  const count = u8(bytes, at + 26);
  if (flags === undefined || flags > 7 || serial === undefined || count === undefined) return undefined;
  const data = at + 27 + count;
  if (data > bytes.length) return undefined;
  let end = data;
  for (let i = at + 27; i < data; i++) end += bytes[i] ?? 0;
  const granule = allOnes(bytes, at + 6, 8) ? undefined : uint(bytes, at + 6, 8, true);
  return { granule, serial, data, end };
};

/** The granule position of the last complete page of the stream that has one. */
const lastGranule = (tail: Uint8Array, serial: number): number | undefined => {
  for (let at = tail.length - 27; at >= 0; at--) {
    if (tail[at] !== 0x4f) continue; // 'O'
    const page = oggPage(tail, at);
    if (page?.serial === serial && page.end <= tail.length && page.granule !== undefined) return page.granule;
  }
  return undefined;
};

const OPUS_RATE = 48_000; // Opus granules always count 48 kHz samples

const oggDuration = (head: Uint8Array, tail: Uint8Array): number | undefined => {
  const first = oggPage(head, 0);
  if (first === undefined) return undefined;
  const at = first.data;
  if (startsWith(head, at, 'OpusHead') && at + 19 <= first.end) {
    // "OpusHead" | version | channels | pre-skip (2, LE) | input rate (4) | gain (2) | mapping family
    const preSkip = u16le(head, at + 10);
    const granule = lastGranule(tail, first.serial);
    if (preSkip === undefined || granule === undefined) return undefined;
    return toMs(((granule - preSkip) / OPUS_RATE) * 1000);
  }
  if (startsWith(head, at, '\x01vorbis') && at + 30 <= first.end) {
    // 01 "vorbis" | version (4) | channels | sample rate (4, LE) | bitrates (12) | block sizes | framing
    const rate = u32le(head, at + 12);
    const granule = lastGranule(tail, first.serial);
    if (rate === undefined || rate === 0 || granule === undefined) return undefined;
    return toMs((granule / rate) * 1000);
  }
  return undefined;
};

// --- MP4 ---------------------------------------------------------------------------------------------------

interface Box {
  readonly data: number;
  readonly end: number;
}

/** size (4, BE; 1: a 64-bit size follows the type; 0: to `limit`) | type (4) | payload */
const box = (bytes: Uint8Array, at: number, limit: number): Box | undefined => {
  const size = u32be(bytes, at);
  if (size === undefined || at + 8 > bytes.length) return undefined;
  if (size === 0) return { data: at + 8, end: limit };
  const large = size === 1 ? uint(bytes, at + 8, 8) : size;
  const header = size === 1 ? 16 : 8;
  return large === undefined || large < header ? undefined : { data: at + header, end: at + large };
};

/** mvhd: version (1) | flags (3) | times (4 or 8 each) | timescale (4) | duration (4 or 8) | … */
const mvhd = (bytes: Uint8Array, { data, end }: Box): number | undefined => {
  const version = u8(bytes, data);
  if (version !== 0 && version !== 1) return undefined;
  const [scaleAt, length] = version === 0 ? [data + 12, 4] : [data + 20, 8];
  if (scaleAt + 4 + length > end) return undefined;
  const timescale = u32be(bytes, scaleAt);
  const duration = uint(bytes, scaleAt + 4, length);
  if (timescale === undefined || timescale === 0 || duration === undefined) return undefined;
  if (allOnes(bytes, scaleAt + 4, length)) return undefined; // "unknown"
  return toMs((duration / timescale) * 1000);
};

const moovDuration = (bytes: Uint8Array, moov: Box): number | undefined => {
  const end = Math.min(moov.end, bytes.length);
  for (let at = moov.data; at + 8 <= end;) {
    const child = box(bytes, at, moov.end);
    if (child === undefined || child.end > moov.end) return undefined;
    if (startsWith(bytes, at + 4, 'mvhd')) return mvhd(bytes, child);
    at = child.end; // a box is at least 8 bytes: this advances
  }
  return undefined;
};

const mp4Duration = (head: Uint8Array, tail: Uint8Array): number | undefined => {
  // Fast-start files carry moov near the start: walk the top-level boxes of the head.
  for (let at = 0; at + 8 <= head.length;) {
    const top = box(head, at, Infinity);
    if (top === undefined) break;
    if (startsWith(head, at + 4, 'moov')) {
      const ms = moovDuration(head, top);
      if (ms !== undefined) return ms;
      break;
    }
    at = top.end;
  }
  // Otherwise moov follows the media: the tail's offset in the file is unknown, so look for its type.
  let tried = 0;
  for (let at = tail.length - 8; at >= 0 && tried < MAX_CANDIDATES; at--) {
    if (!startsWith(tail, at + 4, 'moov')) continue;
    tried++;
    const moov = box(tail, at, tail.length);
    const ms = moov === undefined || moov.end > tail.length ? undefined : moovDuration(tail, moov);
    if (ms !== undefined) return ms;
  }
  return undefined;
};

// --- Exports -------------------------------------------------------------------------------------------------

/**
 * The container the first bytes say (WebM: EBML magic 1A45DFA3 with DocType "webm"; Ogg: "OggS" capture
 * pattern; MP4/M4A: an 'ftyp' box at offset 4), or undefined.
 */
export const audioContainer = (head: Uint8Array): AudioContainer | undefined => {
  const ebml = element(head, 0);
  if (ebml?.id === EBML) {
    for (const field of children(head, ebml))
      if (field.id === DOC_TYPE && isWebm(head, field.data, field.size)) return 'webm';
    return undefined;
  }
  if (startsWith(head, 0, 'OggS')) return 'ogg';
  const size = u32be(head, 0);
  if (startsWith(head, 4, 'ftyp') && size !== undefined && size >= 8) return 'mp4';
  return undefined;
};

/**
 * Duration in ms from the file's first bytes (`head`, up to ~64 KB) and its last bytes (`tail`, up to ~64 KB;
 * for a small file the same bytes), or undefined when the container does not say it (or the bytes are
 * malformed).
 *
 * WebM: Info's Duration when written and positive, else the last cluster of the tail (its timecode plus its
 * last block's: the start of the last frame, so a frame short of the end). Ogg: the last granule position of
 * the first stream, Opus or Vorbis. MP4: moov > mvhd, in the head or the tail; a fragmented MP4 whose mvhd
 * says 0 is undefined.
 */
export const audioDurationMs = (
  container: AudioContainer,
  head: Uint8Array,
  tail: Uint8Array,
): number | undefined => {
  switch (container) {
    case 'webm':
      return webmDuration(head, tail);
    case 'ogg':
      return oggDuration(head, tail);
    case 'mp4':
      return mp4Duration(head, tail);
    default:
      return undefined;
  }
};
