/**
 * The local cloud's check of S3 presigned URLs (infra/local/presigned-url.ts): AWS's documented example,
 * and the download URLs our own attachment storage signs.
 */
import { describe, expect, it } from 'vitest';
import { verifyPresignedUrl } from '../../infra/local/presigned-url.ts';
import { S3AttachmentStorage, S3RVER_CREDENTIALS } from '../../shared/adapters/s3-attachments.ts';

describe("AWS's documented example (Authenticating Requests: Using Query Parameters)", () => {
  const keys = {
    accessKeyId: 'AKIAIOSFODNN7EXAMPLE',
    secretAccessKey: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
    region: 'us-east-1',
  };
  const query = (signature: string) =>
    'X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request' +
    `&X-Amz-Date=20130524T000000Z&X-Amz-Expires=86400&X-Amz-SignedHeaders=host&X-Amz-Signature=${signature}`;
  const SIGNATURE = 'aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404';
  const request = (rawQuery: string, path = '/test.txt') => ({
    method: 'GET',
    path,
    rawQuery,
    headers: { host: 'examplebucket.s3.amazonaws.com' },
  });

  it('accepts the example URL within its day and refuses it after', () => {
    expect(verifyPresignedUrl(request(query(SIGNATURE)), keys, Date.UTC(2013, 4, 24, 12))).toEqual({
      ok: true,
    });
    expect(verifyPresignedUrl(request(query(SIGNATURE)), keys, Date.UTC(2013, 4, 25, 0, 0, 1))).toEqual({
      ok: false,
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });

  it('refuses another object, another signature or another host', () => {
    const at = Date.UTC(2013, 4, 24, 12);
    const otherSignature = `${SIGNATURE.slice(0, -1)}5`;

    expect(verifyPresignedUrl(request(query(SIGNATURE), '/other.txt'), keys, at)).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    expect(verifyPresignedUrl(request(query(otherSignature)), keys, at)).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
    expect(
      verifyPresignedUrl({ ...request(query(SIGNATURE)), headers: { host: 'evil.example.com' } }, keys, at),
    ).toMatchObject({ code: 'SignatureDoesNotMatch' });
  });
});

describe('download URLs the attachment storage signs', () => {
  const storage = new S3AttachmentStorage({
    bucket: 'chat-attachments-local',
    endpoint: 'http://localhost:4569',
    downloadBase: 'http://localhost:3000',
  });
  const keys = { ...S3RVER_CREDENTIALS, region: 'us-east-1' };
  const KEY = 'files/demo/ch_00000000000000000000/att_00000000000000000000';
  /** A request to the download origin as S3 behind it sees it: bucket path, S3's host. */
  const asS3 = (url: string, method = 'GET') => {
    const parsed = new URL(url);
    return {
      method,
      path: `/chat-attachments-local${parsed.pathname}`,
      rawQuery: parsed.search.slice(1),
      headers: { host: 'localhost:4569' },
    };
  };
  const sign = (expiresSeconds = 300) =>
    storage.downloadUrl({
      key: KEY,
      fileName: 'report (final).pdf',
      contentType: 'application/pdf',
      inline: false,
      expiresSeconds,
    });

  it('accepts them until they expire', async () => {
    // Prepare
    const url = await sign(300);

    // Act + Assess
    expect(verifyPresignedUrl(asS3(url), keys)).toEqual({ ok: true });
    expect(verifyPresignedUrl(asS3(url), keys, Date.now() + 301_000)).toMatchObject({
      code: 'AccessDenied',
      message: 'Request has expired',
    });
  });

  it('refuses them for another key, another response type, another method or with no signature', async () => {
    const url = new URL(await sign());
    const otherKey = url.href.replace('att_00000000000000000000', 'att_00000000000000000001');
    const asHtml = new URL(url);
    asHtml.searchParams.set('response-content-type', 'text/html');
    const unsigned = new URL(url);
    unsigned.searchParams.delete('X-Amz-Signature');

    expect(verifyPresignedUrl(asS3(otherKey), keys)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(verifyPresignedUrl(asS3(asHtml.href), keys)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(verifyPresignedUrl(asS3(url.href, 'HEAD'), keys)).toMatchObject({ code: 'SignatureDoesNotMatch' });
    expect(verifyPresignedUrl(asS3(unsigned.href), keys)).toMatchObject({ code: 'AccessDenied' });
    expect(verifyPresignedUrl(asS3('http://localhost:3000/files/'), keys)).toMatchObject({
      code: 'AccessDenied',
    });
  });

  it('refuses them signed with other credentials', async () => {
    const url = await sign();

    expect(verifyPresignedUrl(asS3(url), { ...keys, secretAccessKey: 'other' })).toMatchObject({
      code: 'SignatureDoesNotMatch',
    });
  });
});
