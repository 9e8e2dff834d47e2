import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { createPresignedPost } from '@aws-sdk/s3-presigned-post';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { AttachmentStorage } from '../domain/ports.ts';

/** A browser upload: POST multipart/form-data to `url` with every field of `fields`, then `file` last. */
export type PresignedUpload = Awaited<ReturnType<AttachmentStorage['createUpload']>>;

export interface S3AttachmentStorageOptions {
  readonly bucket: string;
  /**
   * A local S3 emulator (s3rver): path-style URLs and s3rver's only key pair, S3RVER/S3RVER (it answers
   * InvalidAccessKeyId to any other, whatever AWS_ACCESS_KEY_ID says). Unset in AWS.
   */
  readonly endpoint?: string;
  readonly region?: string;
  /** A preconfigured client (tests); `endpoint` and `region` are then ignored. */
  readonly client?: S3Client;
  /**
   * Serve downloads through this origin (the CloudFront distribution, or the local cloud's web server)
   * instead of S3's own host: it passes the presigned query on to S3 and adds `X-Content-Type-Options:
   * nosniff`, which S3 itself cannot send. The signature stays valid because the CDN sends S3 the
   * bucket's own regional host name.
   */
  readonly downloadBase?: string;
}

/** SigV4 presigned requests live at most 7 days (and never beyond the signing session's own expiry). */
const MAX_EXPIRES_SECONDS = 7 * 24 * 3600;
const MAX_KEY_BYTES = 1024;
const MAX_FILE_NAME_CHARS = 180;
/** s3rver's only key pair; the local cloud checks presigned download URLs with it too. */
export const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
/** type/subtype with optional parameters (RFC 9110 media-type, printable ASCII): nothing to break a header. */
const MEDIA_TYPE = new RegExp(`^${TOKEN}/${TOKEN}(?:[ \\t]*;[ \\t]*${TOKEN}=(?:${TOKEN}|"[ !#-[\\]-~]*"))*$`);

const checkKey = (key: string): void => {
  if (key.length === 0 || Buffer.byteLength(key, 'utf8') > MAX_KEY_BYTES) {
    throw new RangeError(`attachment key must be 1 to ${MAX_KEY_BYTES} bytes`);
  }
  // createPresignedPost turns a key ending in ${filename} into a starts-with condition.
  if (key.includes('${filename}')) throw new RangeError('attachment key must not contain ${filename}');
};

const checkContentType = (contentType: string): void => {
  if (!MEDIA_TYPE.test(contentType)) throw new RangeError('content type must be a media type (type/subtype)');
};

const checkExpires = (expiresSeconds: number): void => {
  if (!Number.isInteger(expiresSeconds) || expiresSeconds < 1 || expiresSeconds > MAX_EXPIRES_SECONDS) {
    throw new RangeError(`expiresSeconds must be an integer from 1 to ${MAX_EXPIRES_SECONDS}`);
  }
};

/** Characters never kept in a file name: C0/C1 controls (CR, LF, NUL…) and bidi controls (name spoofing). */
const unsafeInFileName = (code: number): boolean =>
  code < 0x20 ||
  (code >= 0x7f && code <= 0x9f) ||
  code === 0x200e ||
  code === 0x200f ||
  (code >= 0x202a && code <= 0x202e) ||
  (code >= 0x2066 && code <= 0x2069);

/**
 * The user's file name made safe to show and save: NFC, controls as spaces, no path separators, lone
 * surrogates replaced, at most MAX_FILE_NAME_CHARS characters (keeping a short extension), never empty.
 */
export const cleanFileName = (fileName: string): string => {
  let clean = '';
  for (const char of fileName.normalize('NFC')) {
    const code = char.codePointAt(0) ?? 0;
    if (unsafeInFileName(code)) clean += ' ';
    else if (code >= 0xd800 && code <= 0xdfff) clean += '\ufffd';
    else if (char === '/' || char === '\\') clean += '_';
    else clean += char;
  }
  let chars = [...clean.replace(/\s+/g, ' ').trim()];
  if (chars.length > MAX_FILE_NAME_CHARS) {
    const dot = chars.lastIndexOf('.');
    const extension = dot > 0 && chars.length - dot <= 16 ? chars.slice(dot) : [];
    chars = [...chars.slice(0, MAX_FILE_NAME_CHARS - extension.length), ...extension];
  }
  return chars.length === 0 ? 'download' : chars.join('');
};

/** RFC 5987 value-chars: percent-encoded UTF-8 of everything but attr-char (encodeURIComponent leaves '()*). */
const encodeRfc5987 = (value: string): string =>
  encodeURIComponent(value).replace(
    /['()*]/g,
    (char) => `%${char.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`,
  );

/**
 * `attachment` (or `inline`) with a quoted printable-ASCII fallback name for old clients and the exact
 * UTF-8 name in `filename*` (RFC 6266), safe whatever the user named the file: the header is pure ASCII,
 * with no quote, backslash, percent sign or line break inside the quoted name.
 */
export const contentDisposition = (fileName: string, inline: boolean): string => {
  const name = cleanFileName(fileName);
  const fallback = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]|["\\%]/g, '_');
  return `${inline ? 'inline' : 'attachment'}; filename="${fallback}"; filename*=UTF-8''${encodeRfc5987(name)}`;
};

/** x-amz-copy-source: `bucket/key`, URL-encoded segment by segment (s3rver decodes it with decodeURI). */
/**
 * Moves a presigned GET URL onto the download origin: same path (without the bucket segment of a
 * path-style URL) and the same signed query.
 */
export const onDownloadOrigin = (signed: string, base: string, bucket: string): string => {
  const url = new URL(signed);
  const pathStylePrefix = `/${bucket}/`;
  const path = url.pathname.startsWith(pathStylePrefix)
    ? url.pathname.slice(bucket.length + 1)
    : url.pathname;
  return `${base.replace(/\/+$/, '')}${path}${url.search}`;
};

export const copySource = (bucket: string, key: string): string =>
  [bucket, ...key.split('/')].map((segment) => encodeURIComponent(segment)).join('/');

const httpStatus = (error: unknown): number | undefined =>
  (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode;

const errorName = (error: unknown): string | undefined =>
  error instanceof Error ? error.name : (error as { name?: string } | undefined)?.name;

/**
 * Attachments in one S3 bucket. Browsers upload straight to S3 with a presigned POST whose policy pins
 * bucket, key, Content-Type and size, and download through short-lived presigned GETs that force the
 * Content-Type and Content-Disposition.
 *
 * S3 cannot add `X-Content-Type-Options: nosniff` (or any header but the response-* overrides) to a
 * presigned GET: serve only allowlisted content types `inline`, or put the bucket behind CloudFront with
 * a response headers policy.
 */
export class S3AttachmentStorage implements AttachmentStorage {
  private readonly bucket: string;
  private readonly client: S3Client;
  private readonly downloadBase: string | undefined;

  constructor(options: S3AttachmentStorageOptions) {
    this.bucket = options.bucket;
    this.downloadBase = options.downloadBase;
    const local = options.endpoint
      ? {
          endpoint: options.endpoint,
          forcePathStyle: true,
          credentials: S3RVER_CREDENTIALS,
          region: options.region ?? 'us-east-1',
          requestChecksumCalculation: 'WHEN_REQUIRED' as const,
        }
      : {};
    this.client =
      options.client ??
      new S3Client({
        maxAttempts: 3,
        // No full-object GETs go through this client (reads are ranged), and presigned GET URLs then
        // carry no x-amz-checksum-mode parameter.
        responseChecksumValidation: 'WHEN_REQUIRED',
        ...(options.region ? { region: options.region } : {}),
        ...local,
      });
  }

  async createUpload(request: {
    key: string;
    contentType: string;
    size: number;
    maxBytes: number;
    expiresSeconds: number;
  }): Promise<PresignedUpload> {
    const { key, contentType, size, maxBytes, expiresSeconds } = request;
    checkKey(key);
    checkContentType(contentType);
    checkExpires(expiresSeconds);
    if (!Number.isInteger(maxBytes) || maxBytes < 1)
      throw new RangeError('maxBytes must be a positive integer');
    if (!Number.isInteger(size) || size < 1 || size > maxBytes) {
      throw new RangeError(`size must be an integer from 1 to ${maxBytes}`);
    }
    // The policy's expiration is now + expiresSeconds truncated to the second, now read a moment later.
    const expiresAt = new Date((Math.floor(Date.now() / 1000) + expiresSeconds) * 1000).toISOString();
    const { url, fields } = await createPresignedPost(this.client, {
      Bucket: this.bucket,
      Key: key,
      Fields: { 'Content-Type': contentType },
      Conditions: [
        ['eq', '$bucket', this.bucket],
        ['eq', '$key', key],
        ['eq', '$Content-Type', contentType],
        ['content-length-range', 1, size],
      ],
      Expires: expiresSeconds,
    });
    return { url, fields, expiresAt };
  }

  async downloadUrl(request: {
    key: string;
    fileName: string;
    contentType: string;
    inline: boolean;
    expiresSeconds: number;
  }): Promise<string> {
    const { key, fileName, contentType, inline, expiresSeconds } = request;
    checkKey(key);
    checkContentType(contentType);
    checkExpires(expiresSeconds);
    const signed = await getSignedUrl(
      this.client,
      new GetObjectCommand({
        Bucket: this.bucket,
        Key: key,
        ResponseContentType: contentType,
        ResponseContentDisposition: contentDisposition(fileName, inline),
      }),
      { expiresIn: expiresSeconds },
    );
    return this.downloadBase ? onDownloadOrigin(signed, this.downloadBase, this.bucket) : signed;
  }

  async describe(key: string): Promise<{ size: number; contentType?: string } | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return {
        size: head.ContentLength ?? 0,
        ...(head.ContentType === undefined ? {} : { contentType: head.ContentType }),
      };
    } catch (error) {
      const name = errorName(error);
      if (name === 'NotFound' || name === 'NoSuchKey' || httpStatus(error) === 404) return undefined;
      throw error;
    }
  }

  async readStart(key: string, bytes: number): Promise<Uint8Array> {
    if (!Number.isInteger(bytes) || bytes < 1) throw new RangeError('bytes must be a positive integer');
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=0-${bytes - 1}` }),
      );
      const body = object.Body ? await object.Body.transformToByteArray() : new Uint8Array(0);
      // A server ignoring Range sends the whole object.
      return body.length > bytes ? body.subarray(0, bytes) : body;
    } catch (error) {
      // An empty object has no byte 0: S3 answers 416 to any range.
      if (errorName(error) === 'InvalidRange' || httpStatus(error) === 416) return new Uint8Array(0);
      throw error;
    }
  }

  async readRange(key: string, start: number, end: number): Promise<Uint8Array> {
    if (!Number.isInteger(start) || !Number.isInteger(end) || start < 0 || end < start) {
      throw new RangeError('start and end must be integers with 0 <= start <= end');
    }
    const object = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: key, Range: `bytes=${start}-${end}` }),
    );
    const body = object.Body ? await object.Body.transformToByteArray() : new Uint8Array(0);
    // A server ignoring Range sends the whole object.
    return body.length > end - start + 1 ? body.subarray(start, end + 1) : body;
  }

  async promote(fromKey: string, toKey: string): Promise<void> {
    checkKey(toKey);
    // CopyObject keeps the Content-Type and metadata (MetadataDirective COPY); objects up to 5 GB.
    await this.client.send(
      new CopyObjectCommand({
        Bucket: this.bucket,
        Key: toKey,
        CopySource: copySource(this.bucket, fromKey),
        MetadataDirective: 'COPY',
      }),
    );
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: fromKey }));
  }

  async remove(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: key }));
  }
}
