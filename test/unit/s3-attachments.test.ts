import { createHmac } from 'node:crypto';
import {
  CopyObjectCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  type GetObjectCommandOutput,
  HeadObjectCommand,
  NoSuchKey,
  NotFound,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  cleanFileName,
  contentDisposition,
  copySource,
  S3AttachmentStorage,
} from '../../shared/adapters/s3-attachments.ts';

const BUCKET = 'chat-attachments';
const KEY = 'pending/acme/ch_0123456789abcdefghij/att_0123456789abcdefghij';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' };
const NOW = '2026-11-21T10:00:00.500Z';

/** Presigning needs a real client (it never sends); the mocked one answers the object API calls. */
const presigningStorage = (credentials: typeof CREDENTIALS & { sessionToken?: string } = CREDENTIALS) =>
  new S3AttachmentStorage({
    bucket: BUCKET,
    client: new S3Client({ region: 'us-east-1', credentials, responseChecksumValidation: 'WHEN_REQUIRED' }),
  });
const mockedClient = new S3Client({ region: 'us-east-1', credentials: CREDENTIALS });
const s3 = mockClient(mockedClient);
const storage = new S3AttachmentStorage({ bucket: BUCKET, client: mockedClient });

const upload = (overrides: Partial<Parameters<S3AttachmentStorage['createUpload']>[0]> = {}) =>
  presigningStorage().createUpload({
    key: KEY,
    contentType: 'image/png',
    size: 123_456,
    maxBytes: 10 * 1024 * 1024,
    expiresSeconds: 300,
    ...overrides,
  });

interface Policy {
  expiration: string;
  conditions: unknown[];
}
const decodePolicy = (fields: Record<string, string>): Policy =>
  JSON.parse(Buffer.from(fields.Policy ?? '', 'base64').toString('utf8')) as Policy;

/** SigV4 signature of a POST policy: HMAC chain over date, region, service, then the base64 policy. */
const sigV4 = (secret: string, date: string, region: string, policy: string) => {
  const hmac = (key: string | Buffer, data: string) => createHmac('sha256', key).update(data).digest();
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${secret}`, date), region), 's3'), 'aws4_request');
  return createHmac('sha256', signingKey).update(policy).digest('hex');
};

const download = (overrides: Partial<Parameters<S3AttachmentStorage['downloadUrl']>[0]> = {}) =>
  presigningStorage().downloadUrl({
    key: KEY,
    fileName: 'report.pdf',
    contentType: 'application/pdf',
    inline: false,
    expiresSeconds: 300,
    ...overrides,
  });

const body = (bytes: Uint8Array) =>
  ({ transformToByteArray: () => Promise.resolve(bytes) }) as unknown as GetObjectCommandOutput['Body'];

beforeEach(() => {
  s3.reset();
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(NOW));
});
afterEach(() => {
  vi.useRealTimers();
});

describe('S3AttachmentStorage.createUpload', () => {
  it('returns the bucket URL and the form fields a browser posts, signed with SigV4', async () => {
    // Act
    const { url, fields } = await upload();

    // Assess
    expect(url).toBe(`https://${BUCKET}.s3.us-east-1.amazonaws.com/`);
    expect(fields).toEqual({
      'Content-Type': 'image/png',
      bucket: BUCKET,
      key: KEY,
      'X-Amz-Algorithm': 'AWS4-HMAC-SHA256',
      'X-Amz-Credential': 'AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request',
      'X-Amz-Date': '20261121T100000Z',
      Policy: expect.any(String),
      'X-Amz-Signature': expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    expect(fields['X-Amz-Signature']).toBe(sigV4('secret', '20261121', 'us-east-1', fields.Policy ?? ''));
  });

  it('pins bucket, exact key, exact Content-Type and 1 to the declared size in the signed policy', async () => {
    // Act
    const { fields } = await upload({ size: 123_456 });

    // Assess: every condition, and nothing looser (no starts-with anywhere)
    const { conditions } = decodePolicy(fields);
    const expected = [
      ['eq', '$bucket', BUCKET],
      ['eq', '$key', KEY],
      ['eq', '$Content-Type', 'image/png'],
      ['content-length-range', 1, 123_456],
      { bucket: BUCKET },
      { key: KEY },
      { 'Content-Type': 'image/png' },
      { 'X-Amz-Algorithm': 'AWS4-HMAC-SHA256' },
      { 'X-Amz-Credential': 'AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request' },
      { 'X-Amz-Date': '20261121T100000Z' },
    ];
    const sorted = (list: unknown[]) => list.map((entry) => JSON.stringify(entry)).sort();
    expect(sorted(conditions)).toEqual(sorted(expected));
    expect(JSON.stringify(conditions)).not.toContain('starts-with');
  });

  it('expires the policy expiresSeconds from now and reports an expiresAt no later than that', async () => {
    // Act
    const { fields, expiresAt } = await upload({ expiresSeconds: 300 });

    // Assess
    expect(decodePolicy(fields).expiration).toBe('2026-11-21T10:05:00Z');
    expect(expiresAt).toBe('2026-11-21T10:05:00.000Z');
  });

  it('adds the session token of temporary credentials (a Lambda role) to the fields and the policy', async () => {
    // Prepare
    const temporary = presigningStorage({ ...CREDENTIALS, sessionToken: 'session-token' });

    // Act
    const { fields } = await temporary.createUpload({
      key: KEY,
      contentType: 'application/pdf',
      size: 10,
      maxBytes: 10,
      expiresSeconds: 60,
    });

    // Assess
    expect(fields['X-Amz-Security-Token']).toBe('session-token');
    expect(decodePolicy(fields).conditions).toContainEqual({ 'X-Amz-Security-Token': 'session-token' });
    expect(decodePolicy(fields).conditions).toContainEqual(['content-length-range', 1, 10]);
  });

  it('refuses an empty upload, one larger than maxBytes and sizes that are not whole bytes', async () => {
    // Act + Assess
    await expect(upload({ size: 0 })).rejects.toThrow(RangeError);
    await expect(upload({ size: -1 })).rejects.toThrow(RangeError);
    await expect(upload({ size: 1001, maxBytes: 1000 })).rejects.toThrow(RangeError);
    await expect(upload({ size: 1.5 })).rejects.toThrow(RangeError);
    await expect(upload({ size: Number.NaN })).rejects.toThrow(RangeError);
    await expect(upload({ size: 1, maxBytes: 0 })).rejects.toThrow(RangeError);
    await expect(upload({ size: 1000, maxBytes: 1000 })).resolves.toBeDefined();
  });

  it('refuses keys that would loosen the policy, header-breaking content types and bad expiries', async () => {
    // Act + Assess
    await expect(upload({ key: 'pending/${filename}' })).rejects.toThrow(RangeError);
    await expect(upload({ key: '' })).rejects.toThrow(RangeError);
    await expect(upload({ key: 'k'.repeat(1025) })).rejects.toThrow(RangeError);
    await expect(upload({ contentType: 'text/html\r\nX-Evil: 1' })).rejects.toThrow(RangeError);
    await expect(upload({ contentType: 'png' })).rejects.toThrow(RangeError);
    await expect(upload({ contentType: 'text/plain; charset=utf-8' })).resolves.toBeDefined();
    await expect(upload({ expiresSeconds: 0 })).rejects.toThrow(RangeError);
    await expect(upload({ expiresSeconds: 7 * 24 * 3600 + 1 })).rejects.toThrow(RangeError);
  });

  it('uses path-style URLs and the S3RVER key pair when given a local endpoint', async () => {
    // Prepare
    const local = new S3AttachmentStorage({ bucket: BUCKET, endpoint: 'http://127.0.0.1:4569' });

    // Act
    const { url, fields } = await local.createUpload({
      key: KEY,
      contentType: 'image/png',
      size: 1,
      maxBytes: 1,
      expiresSeconds: 60,
    });
    const downloadUrl = new URL(
      await local.downloadUrl({
        key: KEY,
        fileName: 'a.png',
        contentType: 'image/png',
        inline: true,
        expiresSeconds: 60,
      }),
    );

    // Assess
    expect(url).toBe(`http://127.0.0.1:4569/${BUCKET}`);
    expect(fields['X-Amz-Credential']).toBe('S3RVER/20261121/us-east-1/s3/aws4_request');
    expect(`${downloadUrl.origin}${downloadUrl.pathname}`).toBe(`http://127.0.0.1:4569/${BUCKET}/${KEY}`);
  });
});

describe('S3AttachmentStorage.downloadUrl', () => {
  it('presigns a GET of the key that forces Content-Type and an attachment disposition', async () => {
    // Act
    const url = new URL(await download({ fileName: 'résumé "final".pdf', expiresSeconds: 300 }));

    // Assess
    expect(`${url.origin}${url.pathname}`).toBe(`https://${BUCKET}.s3.us-east-1.amazonaws.com/${KEY}`);
    expect(url.searchParams.get('response-content-type')).toBe('application/pdf');
    expect(url.searchParams.get('response-content-disposition')).toBe(
      `attachment; filename="resume _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Algorithm')).toBe('AWS4-HMAC-SHA256');
    expect(url.searchParams.get('X-Amz-Credential')).toBe('AKIDEXAMPLE/20261121/us-east-1/s3/aws4_request');
    expect(url.searchParams.get('X-Amz-SignedHeaders')).toBe('host');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  });

  it('asks for inline display when told to', async () => {
    // Act
    const url = new URL(await download({ fileName: 'photo.png', contentType: 'image/png', inline: true }));

    // Assess
    expect(url.searchParams.get('response-content-disposition')).toBe(
      `inline; filename="photo.png"; filename*=UTF-8''photo.png`,
    );
    expect(url.searchParams.get('response-content-type')).toBe('image/png');
  });

  it('never lets a file name with CR/LF inject a header line', async () => {
    // Act
    const url = new URL(await download({ fileName: 'evil\r\nContent-Type: text/html\r\n\r\n<script>.txt' }));

    // Assess
    const disposition = url.searchParams.get('response-content-disposition') ?? '';
    expect(disposition).not.toMatch(/[\r\n]/);
    expect(disposition).toBe(
      `attachment; filename="evil Content-Type: text_html <script>.txt"; ` +
        `filename*=UTF-8''evil%20Content-Type%3A%20text_html%20%3Cscript%3E.txt`,
    );
  });

  it('refuses header-breaking content types and expiries beyond 7 days', async () => {
    // Act + Assess
    await expect(download({ contentType: 'text/plain\nX: y' })).rejects.toThrow(RangeError);
    await expect(download({ expiresSeconds: 604_801 })).rejects.toThrow(RangeError);
    await expect(download({ expiresSeconds: 604_800 })).resolves.toContain('X-Amz-Expires=604800');
  });
});

describe('contentDisposition', () => {
  it('keeps the exact UTF-8 name in filename* and a printable-ASCII fallback in filename', () => {
    // Act + Assess
    expect(contentDisposition('日本語の資料.pdf', false)).toBe(
      `attachment; filename="______.pdf"; filename*=UTF-8''%E6%97%A5%E6%9C%AC%E8%AA%9E%E3%81%AE%E8%B3%87%E6%96%99.pdf`,
    );
    expect(contentDisposition('Crème brûlée.png', true)).toBe(
      `inline; filename="Creme brulee.png"; filename*=UTF-8''Cr%C3%A8me%20br%C3%BBl%C3%A9e.png`,
    );
  });

  it('escapes quote, backslash and percent in the fallback and every non attr-char in filename*', () => {
    // Act
    const value = contentDisposition(`it's (100%) "a"\\b*.txt`, false);

    // Assess
    expect(value).toBe(
      `attachment; filename="it's (100_) _a__b*.txt"; filename*=UTF-8''it%27s%20%28100%25%29%20%22a%22_b%2A.txt`,
    );
  });

  it('produces a pure-ASCII header value whatever the name', () => {
    // Prepare
    const names = ['\u{1F600}.png', 'a\u0000b', '\uD800lone.txt', 'x\u2028y', '\u00A0', '"'];

    // Act + Assess
    for (const name of names) expect(contentDisposition(name, false), name).toMatch(/^[\x20-\x7e]+$/);
  });
});

describe('cleanFileName', () => {
  it('turns controls into spaces, path separators into underscores and trims', () => {
    // Act + Assess
    expect(cleanFileName('  ../../etc/passwd  ')).toBe('.._.._etc_passwd');
    expect(cleanFileName('C:\\Users\\me\\a.txt')).toBe('C:_Users_me_a.txt');
    expect(cleanFileName('line\r\n\tbreak\u0085.txt')).toBe('line break .txt');
  });

  it('drops bidi controls that would disguise an extension', () => {
    // Act + Assess
    expect(cleanFileName('invoice\u202Efdp.exe')).toBe('invoice fdp.exe');
    expect(cleanFileName('a\u2066b\u2069\u200Ec.txt')).toBe('a b c.txt');
  });

  it('replaces lone surrogates, normalises to NFC and falls back to "download" when nothing is left', () => {
    // Act + Assess
    expect(cleanFileName('\uD800x\uDC00.txt')).toBe('\uFFFDx\uFFFD.txt');
    expect(cleanFileName('e\u0301.txt')).toBe('\u00E9.txt');
    expect(cleanFileName('')).toBe('download');
    expect(cleanFileName(' \r\n\u202E ')).toBe('download');
  });

  it('shortens long names to 180 characters, keeping the extension', () => {
    // Act
    const long = cleanFileName(`${'ü'.repeat(500)}.pdf`);
    const noExtension = cleanFileName('x'.repeat(500));

    // Assess
    expect([...long]).toHaveLength(180);
    expect(long.endsWith('ü.pdf')).toBe(true);
    expect(noExtension).toBe('x'.repeat(180));
  });
});

describe('S3AttachmentStorage.describe', () => {
  it('returns the size and Content-Type of an existing object', async () => {
    // Prepare
    s3.on(HeadObjectCommand).resolves({ ContentLength: 4096, ContentType: 'image/png' });

    // Act
    const result = await storage.describe(KEY);

    // Assess
    expect(result).toEqual({ size: 4096, contentType: 'image/png' });
    expect(s3).toHaveReceivedNthCommandWith(HeadObjectCommand, 1, { Bucket: BUCKET, Key: KEY });
  });

  it('returns undefined for a missing object (NotFound, or any 404)', async () => {
    // Prepare
    s3.on(HeadObjectCommand)
      .rejectsOnce(new NotFound({ message: 'NotFound', $metadata: { httpStatusCode: 404 } }))
      .rejectsOnce(
        new S3ServiceException({ name: 'Unknown', $fault: 'client', $metadata: { httpStatusCode: 404 } }),
      );

    // Act + Assess
    await expect(storage.describe(KEY)).resolves.toBeUndefined();
    await expect(storage.describe(KEY)).resolves.toBeUndefined();
  });

  it('rethrows other errors, such as access denied', async () => {
    // Prepare
    const denied = new S3ServiceException({
      name: 'AccessDenied',
      $fault: 'client',
      $metadata: { httpStatusCode: 403 },
    });
    s3.on(HeadObjectCommand).rejects(denied);

    // Act + Assess
    await expect(storage.describe(KEY)).rejects.toBe(denied);
  });
});

describe('S3AttachmentStorage.readStart', () => {
  it('asks for the first bytes with a Range header and returns them', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(new Uint8Array([1, 2, 3])) });

    // Act
    const bytes = await storage.readStart(KEY, 65_536);

    // Assess
    expect(bytes).toEqual(new Uint8Array([1, 2, 3]));
    expect(s3).toHaveReceivedNthCommandWith(GetObjectCommand, 1, {
      Bucket: BUCKET,
      Key: KEY,
      Range: 'bytes=0-65535',
    });
  });

  it('cuts a body longer than asked for (a server ignoring Range)', async () => {
    // Prepare
    s3.on(GetObjectCommand).resolves({ Body: body(new Uint8Array(100).fill(7)) });

    // Act
    const bytes = await storage.readStart(KEY, 10);

    // Assess
    expect(bytes).toEqual(new Uint8Array(10).fill(7));
  });

  it('returns no bytes for an empty object (416) and rethrows a missing one', async () => {
    // Prepare
    s3.on(GetObjectCommand)
      .rejectsOnce(
        new S3ServiceException({
          name: 'InvalidRange',
          $fault: 'client',
          $metadata: { httpStatusCode: 416 },
        }),
      )
      .rejectsOnce(new NoSuchKey({ message: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }));

    // Act + Assess
    await expect(storage.readStart(KEY, 10)).resolves.toEqual(new Uint8Array(0));
    await expect(storage.readStart(KEY, 10)).rejects.toBeInstanceOf(NoSuchKey);
  });

  it('refuses to read zero or a fractional number of bytes', async () => {
    // Act + Assess
    await expect(storage.readStart(KEY, 0)).rejects.toThrow(RangeError);
    await expect(storage.readStart(KEY, 1.5)).rejects.toThrow(RangeError);
    expect(s3.calls()).toHaveLength(0);
  });
});

describe('S3AttachmentStorage.promote and remove', () => {
  it('copies to the new key with a URL-encoded bucket/key CopySource, then deletes the original', async () => {
    // Prepare
    s3.on(CopyObjectCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    const from = 'pending/acme/ch_1/att 1+ü';

    // Act
    await storage.promote(from, 'files/acme/ch_1/att_1');

    // Assess
    const calls = s3.calls();
    expect(calls).toHaveLength(2);
    expect(calls[0]?.args[0]).toBeInstanceOf(CopyObjectCommand);
    expect(calls[0]?.args[0].input).toEqual({
      Bucket: BUCKET,
      Key: 'files/acme/ch_1/att_1',
      CopySource: `${BUCKET}/pending/acme/ch_1/att%201%2B%C3%BC`,
      MetadataDirective: 'COPY',
    });
    expect(calls[1]?.args[0]).toBeInstanceOf(DeleteObjectCommand);
    expect(calls[1]?.args[0].input).toEqual({ Bucket: BUCKET, Key: from });
  });

  it('keeps the original when the copy fails', async () => {
    // Prepare
    s3.on(CopyObjectCommand).rejects(
      new NoSuchKey({ message: 'NoSuchKey', $metadata: { httpStatusCode: 404 } }),
    );

    // Act + Assess
    await expect(storage.promote(KEY, 'files/x')).rejects.toBeInstanceOf(NoSuchKey);
    expect(s3).toHaveReceivedCommandTimes(DeleteObjectCommand, 0);
  });

  it('deletes an object by key', async () => {
    // Prepare
    s3.on(DeleteObjectCommand).resolves({});

    // Act
    await storage.remove(KEY);

    // Assess
    expect(s3).toHaveReceivedNthCommandWith(DeleteObjectCommand, 1, { Bucket: BUCKET, Key: KEY });
  });
});

describe('copySource', () => {
  it('encodes each key segment but keeps the slashes between them', () => {
    // Act + Assess
    expect(copySource('b', 'a/b c/d?e#f&g')).toBe('b/a/b%20c/d%3Fe%23f%26g');
  });
});
