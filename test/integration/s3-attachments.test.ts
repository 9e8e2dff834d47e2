import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../infra/local/free-port.ts';
import { S3AttachmentStorage } from '../../shared/adapters/s3-attachments.ts';

// s3rver checks neither signatures nor POST policies (the unit tests check the policy); it does check
// that signed requests use its S3RVER key, which the adapter uses for a local endpoint.
const BUCKET = 'attachments-it';
let server: S3rver | undefined;
let directory: string | undefined;
let storage: S3AttachmentStorage;
let endpoint: string;

beforeAll(async () => {
  directory = mkdtempSync(join(tmpdir(), 's3-attachments-'));
  const port = await freePort();
  server = new S3rver({
    port,
    address: '127.0.0.1',
    silent: true,
    directory,
    configureBuckets: [{ name: BUCKET, configs: [] }],
  });
  await server.run();
  endpoint = `http://127.0.0.1:${port}`;
  storage = new S3AttachmentStorage({ bucket: BUCKET, endpoint });
});

afterAll(async () => {
  await server?.close();
  if (directory) rmSync(directory, { recursive: true, force: true });
});

/** Bytes 0, 1, …, 255, 0, 1, … */
const content = (length: number) => {
  const bytes = new Uint8Array(length);
  for (let i = 0; i < length; i++) bytes[i] = i % 256;
  return bytes;
};

/** What a browser does with a presigned POST: every field, then the file last, as multipart/form-data. */
const postForm = async (
  upload: { url: string; fields: Record<string, string> },
  bytes: Uint8Array<ArrayBuffer>,
  type: string,
) => {
  const form = new FormData();
  for (const [name, value] of Object.entries(upload.fields)) form.append(name, value);
  form.append('file', new Blob([bytes], { type }), 'chosen-by-user.bin');
  return fetch(upload.url, { method: 'POST', body: form });
};

describe('S3AttachmentStorage against s3rver', () => {
  it('takes a browser form upload, then describes, reads, promotes, serves and removes the object', async () => {
    // Prepare
    const pending = 'pending/acme/ch_1/att_1';
    const final = 'files/acme/ch_1/att_1';
    const bytes = content(100_000);
    const upload = await storage.createUpload({
      key: pending,
      contentType: 'application/pdf',
      size: bytes.length,
      maxBytes: 1_000_000,
      expiresSeconds: 300,
    });

    // Act: upload as a browser would
    const posted = await postForm(upload, bytes, 'application/pdf');

    // Assess: stored under the server's key with the signed Content-Type, whatever the file was called
    expect(posted.status).toBe(204);
    expect(await storage.describe(pending)).toEqual({ size: 100_000, contentType: 'application/pdf' });
    expect(await storage.readStart(pending, 1024)).toEqual(bytes.subarray(0, 1024));
    expect(await storage.readStart(pending, 200_000)).toEqual(bytes);

    // Act: move it out of pending/
    await storage.promote(pending, final);

    // Assess
    expect(await storage.describe(pending)).toBeUndefined();
    expect(await storage.describe(final)).toEqual({ size: 100_000, contentType: 'application/pdf' });

    // Act: download through the presigned URL
    const url = await storage.downloadUrl({
      key: final,
      fileName: 'résumé "final".pdf',
      contentType: 'application/pdf',
      inline: false,
      expiresSeconds: 60,
    });
    const response = await fetch(url);

    // Assess
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('application/pdf');
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="resume _final_.pdf"; filename*=UTF-8''r%C3%A9sum%C3%A9%20%22final%22.pdf`,
    );
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);

    // Act: remove it
    await storage.remove(final);

    // Assess
    expect(await storage.describe(final)).toBeUndefined();
    expect((await fetch(url)).status).toBe(404);
  });

  it('serves an image inline with the Content-Type given to the download URL, not the stored one', async () => {
    // Prepare: uploaded as application/octet-stream
    const key = 'files/acme/ch_1/att_2';
    const bytes = content(300);
    const upload = await storage.createUpload({
      key,
      contentType: 'application/octet-stream',
      size: bytes.length,
      maxBytes: bytes.length,
      expiresSeconds: 60,
    });
    expect((await postForm(upload, bytes, 'application/octet-stream')).status).toBe(204);

    // Act
    const response = await fetch(
      await storage.downloadUrl({
        key,
        fileName: 'photo.png',
        contentType: 'image/png',
        inline: true,
        expiresSeconds: 60,
      }),
    );

    // Assess
    expect(response.headers.get('content-type')).toBe('image/png');
    expect(response.headers.get('content-disposition')).toBe(
      `inline; filename="photo.png"; filename*=UTF-8''photo.png`,
    );
    expect(new Uint8Array(await response.arrayBuffer())).toEqual(bytes);
  });

  it('reports a missing object as undefined and fails to read or promote it', async () => {
    // Act + Assess
    expect(await storage.describe('pending/nobody/here')).toBeUndefined();
    await expect(storage.readStart('pending/nobody/here', 10)).rejects.toThrow();
    await expect(storage.promote('pending/nobody/here', 'files/nobody/here')).rejects.toThrow();
  });

  it('refuses URLs signed with any key but S3RVER, such as the local cloud’s AWS_ACCESS_KEY_ID', async () => {
    // Prepare: an object, and a client signing with the environment-style 'local' key
    const key = 'files/acme/ch_1/att_3';
    const upload = await storage.createUpload({
      key,
      contentType: 'text/plain',
      size: 5,
      maxBytes: 5,
      expiresSeconds: 60,
    });
    expect((await postForm(upload, new Uint8Array([104, 101, 108, 108, 111]), 'text/plain')).status).toBe(
      204,
    );
    const otherKey = new S3AttachmentStorage({
      bucket: BUCKET,
      client: new S3Client({
        endpoint,
        forcePathStyle: true,
        region: 'us-east-1',
        credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      }),
    });
    const request = { key, fileName: 'a.txt', contentType: 'text/plain', inline: false, expiresSeconds: 60 };

    // Act
    const refused = await fetch(await otherKey.downloadUrl(request));
    const served = await fetch(await storage.downloadUrl(request));

    // Assess
    expect(refused.status).toBe(403);
    expect(await refused.text()).toContain('InvalidAccessKeyId');
    expect(await served.text()).toBe('hello');
  });
});
