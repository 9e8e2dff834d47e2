/** Small Ogg Opus files built byte by byte (what MediaRecorder writes in Firefox), for upload tests. */

/** One Ogg page: the 27-byte header, its segment table and `data` (the CRC is left 0: readers need not check it). */
const oggPage = (headerType: number, granule: bigint, sequence: number, data: Uint8Array): Buffer => {
  const segments: number[] = [];
  let left = data.length;
  while (left >= 255) {
    segments.push(255);
    left -= 255;
  }
  segments.push(left);
  const header = Buffer.alloc(27 + segments.length);
  header.write('OggS', 0, 'latin1');
  header[4] = 0;
  header[5] = headerType;
  header.writeBigUInt64LE(granule, 6);
  header.writeUInt32LE(0x5eed, 14);
  header.writeUInt32LE(sequence, 18);
  header[26] = segments.length;
  segments.forEach((size, i) => {
    header[27 + i] = size;
  });
  return Buffer.concat([header, data]);
};

/** An Ogg Opus file of `seconds` (mono; the last page's granule position says the length). */
export const oggOpus = (seconds: number, preSkip = 312): Buffer => {
  const head = Buffer.alloc(19);
  head.write('OpusHead', 0, 'latin1');
  head[8] = 1;
  head[9] = 1;
  head.writeUInt16LE(preSkip, 10);
  head.writeUInt32LE(48_000, 12);
  const tags = Buffer.from('OpusTags\u0000\u0000\u0000\u0000\u0000\u0000\u0000\u0000', 'latin1');
  const audio = Buffer.alloc(300, 0x55);
  return Buffer.concat([
    oggPage(0x02, 0n, 0, head),
    oggPage(0x00, 0n, 1, tags),
    oggPage(0x00, BigInt(preSkip + Math.floor((48_000 * seconds) / 2)), 2, audio),
    oggPage(0x04, BigInt(preSkip + Math.round(48_000 * seconds)), 3, audio),
  ]);
};
