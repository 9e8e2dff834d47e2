import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

/** A random id with a readable prefix, e.g. `ch_4k2j…` (20 chars of base36 ≈ 103 bits). */
export const newId = (prefix: string, length = 20): string => {
  const bytes = randomBytes(length);
  let out = '';
  for (const byte of bytes) out += ALPHABET[byte % 36];
  return `${prefix}_${out}`;
};

/** Message ids carry their seq so a message is addressable without an extra index item. */
export const newMessageId = (seq: number): string => `${newId('m', 12)}_${seq}`;

export const seqOfMessageId = (messageId: string): number | undefined => {
  const match = /_(\d+)$/.exec(messageId);
  return match?.[1] ? Number(match[1]) : undefined;
};

/** Opaque secret for single-use tickets; only its hash is stored. */
export const newSecret = (): string => randomBytes(32).toString('base64url');
export const sha256 = (value: string): string => createHash('sha256').update(value).digest('base64url');
