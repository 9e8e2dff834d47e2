/**
 * Our Signature V4 (shared/adapters/sigv4.ts) against the AWS SDK's: the SDK's own signer
 * (`@smithy/signature-v4`, as the SDK's clients configure it for every service but S3) on generated
 * requests, and the request the SDK's `PostToConnection` client really sends.
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { fc, test } from '@fast-check/vitest';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiGatewayPusher } from '../../shared/adapters/pusher.ts';
import { NodeSha256 } from '../support/sha256.ts';
import {
  type AwsCredentials,
  canonicalPath,
  escapeUri,
  sha256Hex,
  SigV4Signer,
} from '../../shared/adapters/sigv4.ts';

const referenceSignature = async (
  request: { method: string; host: string; path: string; headers: Record<string, string>; body: string },
  credentials: AwsCredentials,
  region: string,
  at: Date,
): Promise<string> => {
  const signer = new SignatureV4({
    credentials,
    region,
    service: 'execute-api',
    sha256: NodeSha256,
    uriEscapePath: true,
  });
  const signed = await signer.sign(
    {
      method: request.method,
      protocol: 'https:',
      hostname: request.host,
      path: request.path,
      headers: request.headers,
      body: request.body,
      query: {},
    },
    { signingDate: at },
  );
  return String(signed.headers.authorization);
};

const credentialsArb = fc.record(
  {
    accessKeyId: fc.stringMatching(/^[A-Z0-9]{16,20}$/),
    secretAccessKey: fc.string({ minLength: 1, maxLength: 40 }),
    sessionToken: fc.string({ minLength: 1, maxLength: 60 }).map((token) => token.replace(/\s/g, 'x')),
  },
  { requiredKeys: ['accessKeyId', 'secretAccessKey'] },
);
const dateArb = fc.date({
  min: new Date('2020-01-01T00:00:00Z'),
  max: new Date('2035-12-31T23:59:59Z'),
  noInvalidDate: true,
});

describe('SigV4Signer', () => {
  test.prop(
    [
      fc.string({ minLength: 1, maxLength: 40, unit: 'binary' }),
      fc.string({ maxLength: 200, unit: 'binary' }),
      fc.stringMatching(/^[a-z]{2}-[a-z]{4,9}-\d$/),
      credentialsArb,
      dateArb,
    ],
    { numRuns: 300 },
  )(
    'signs a @connections post exactly as the SDK’s signer does',
    async (connectionId, body, region, credentials, at) => {
      // Prepare: the post as the pusher sends it
      const host = 'abc123.execute-api.example.com';
      const path = `/prod/@connections/${escapeUri(connectionId)}`;
      const payloadHash = sha256Hex(Buffer.from(body, 'utf8'));
      const headers = {
        host,
        'x-amz-content-sha256': payloadHash,
        'content-type': 'application/octet-stream',
      };

      // Act
      const ours = new SigV4Signer(region, 'execute-api').sign(
        { method: 'POST', path, headers, payloadHash },
        credentials,
        at,
      );

      // Assess
      expect(ours.authorization).toBe(
        await referenceSignature({ method: 'POST', host, path, headers, body }, credentials, region, at),
      );
      expect(ours['x-amz-security-token']).toBe(credentials.sessionToken);
    },
  );

  it('normalizes the path as the SDK does: empty and dot segments dropped, a trailing slash kept', async () => {
    // Prepare
    const credentials = { accessKeyId: 'AKID', secretAccessKey: 'secret' };
    const at = new Date('2026-12-05T01:24:25Z');
    const path = '/a//b/./c/../d%20e/';
    const headers = { host: 'h', 'x-amz-content-sha256': sha256Hex('') };

    // Act
    const ours = new SigV4Signer('eu-west-1', 'execute-api').sign(
      { method: 'DELETE', path, headers, payloadHash: sha256Hex('') },
      credentials,
      at,
    );

    // Assess
    expect(canonicalPath(path)).toBe('/a/b/d%2520e/');
    expect(ours.authorization).toBe(
      await referenceSignature(
        { method: 'DELETE', host: 'h', path, headers, body: '' },
        credentials,
        'eu-west-1',
        at,
      ),
    );
  });

  it('keeps one signing key per day and secret, and derives a new one when either changes', () => {
    // Prepare
    const signer = new SigV4Signer('us-east-1', 'execute-api');
    const request = { method: 'POST', path: '/p', headers: { host: 'h' }, payloadHash: sha256Hex('x') };
    const sign = (secret: string, at: string) =>
      signer.sign(request, { accessKeyId: 'AKID', secretAccessKey: secret }, new Date(at)).authorization;

    // Act
    const first = sign('one', '2026-12-05T10:00:00Z');
    const otherSecret = sign('two', '2026-12-05T10:00:00Z');
    const again = sign('one', '2026-12-05T10:00:00Z');
    const nextDay = sign('one', '2026-12-06T10:00:00Z');

    // Assess
    expect(new Set([first, otherSecret, nextDay]).size).toBe(3);
    expect(again).toBe(first);
  });
});

/** The headers a received request signed (but the date and token, which signers add) and its signing date. */
const signedParts = (received: { headers: IncomingHttpHeaders } | undefined) => {
  const names = /SignedHeaders=([^,]+)/.exec(String(received?.headers.authorization))?.[1]?.split(';') ?? [];
  const headers = Object.fromEntries(
    names
      .filter((name) => name !== 'x-amz-date' && name !== 'x-amz-security-token')
      .map((name) => [name, String(received?.headers[name])]),
  );
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(String(received?.headers['x-amz-date']));
  const at = new Date(`${date?.[1]}-${date?.[2]}-${date?.[3]}T${date?.[4]}:${date?.[5]}:${date?.[6]}Z`);
  return { headers, at };
};

describe('ApiGatewayPusher on the wire', () => {
  // Records what reaches it; answers 200.
  let server: ReturnType<typeof createServer>;
  let endpoint = '';
  const received: { path: string; headers: IncomingHttpHeaders; body: string }[] = [];
  beforeAll(async () => {
    server = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk: Buffer) => (body += chunk.toString('utf8')));
      request.on('end', () => {
        received.push({ path: request.url ?? '', headers: request.headers, body });
        response.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}/prod`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  test.prop([fc.string({ minLength: 1, maxLength: 30, unit: 'binary' }), fc.string({ maxLength: 100 })], {
    numRuns: 40,
    // Segments the signer normalizes away, and every character the SDK escapes its own way.
    examples: [
      ['.', 'x'],
      ['..', 'y'],
      ["a b=!'()*é/%", 'z'],
    ],
  })(
    'sends the path and body the SDK’s client sends, signed with the SDK’s signature for its headers',
    async (connectionId, data) => {
      // Prepare
      const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/key', sessionToken: 'token' };
      const region = String(process.env.AWS_REGION); // the pusher signs for the function's region
      const sdk = new ApiGatewayManagementApiClient({ endpoint, region, credentials, maxAttempts: 1 });
      const pusher = new ApiGatewayPusher(endpoint, () => credentials);
      received.length = 0;

      // Act
      await sdk.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      await pusher.post(connectionId, data);
      sdk.destroy();

      // Assess: same path and body; and our signer, given the SDK's signed headers and date, signs as it did
      const [theirs, ours] = received;
      expect(ours?.path).toBe(theirs?.path);
      expect(ours?.body).toBe(theirs?.body);
      // Assess, both ways: the SDK's signer signs our request (path, signed headers, date) as we did,
      // and our signer signs the SDK client's request as it did.
      expect(ours?.headers.authorization).toBe(
        await referenceSignature(
          {
            method: 'POST',
            host: String(ours?.headers.host),
            path: ours?.path ?? '',
            ...signedParts(ours),
            body: data,
          },
          credentials,
          region,
          signedParts(ours).at,
        ),
      );
      const resigned = new SigV4Signer(region, 'execute-api').sign(
        {
          method: 'POST',
          path: theirs?.path ?? '',
          headers: signedParts(theirs).headers,
          payloadHash: sha256Hex(Buffer.from(data, 'utf8')),
        },
        credentials,
        signedParts(theirs).at,
      );
      expect(resigned.authorization).toBe(theirs?.headers.authorization);
      expect(ours?.headers['x-amz-security-token']).toBe('token');
      expect(ours?.headers.authorization).toMatch(
        new RegExp(
          `^AWS4-HMAC-SHA256 Credential=AKIDTEST/\\d{8}/${region}/execute-api/aws4_request, ` +
            'SignedHeaders=content-length;content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token, ' +
            'Signature=[0-9a-f]{64}$',
        ),
      );
    },
  );

  it('signs each post for its own body when one pusher posts many frames to many sockets at once', async () => {
    // Prepare: 40 frames (more than the pusher keeps made), each to 5 sockets, interleaved
    const credentials = { accessKeyId: 'AKIDTEST', secretAccessKey: 'secret/key' };
    const region = String(process.env.AWS_REGION);
    const pusher = new ApiGatewayPusher(endpoint, () => credentials);
    const frames = Array.from({ length: 40 }, (_, i) => JSON.stringify({ type: 'message.created', seq: i }));
    const posts = [0, 1, 2, 3, 4].flatMap((socket) =>
      frames.map((frame, i) => ({ connectionId: `c${socket}-${i}=`, frame })),
    );
    received.length = 0;

    // Act
    await Promise.all(posts.map(({ connectionId, frame }) => pusher.post(connectionId, frame)));

    // Assess: every socket got its frame, with that frame's hash, under a signature of that body
    expect(received).toHaveLength(posts.length);
    for (const request of received) {
      const index = Number(/-(\d+)%3D$/.exec(request.path)?.[1]);
      expect(request.body).toBe(frames[index]);
      expect(request.headers['x-amz-content-sha256']).toBe(sha256Hex(Buffer.from(request.body, 'utf8')));
      expect(request.headers.authorization).toBe(
        await referenceSignature(
          {
            method: 'POST',
            host: String(request.headers.host),
            path: request.path,
            ...signedParts(request),
            body: request.body,
          },
          credentials,
          region,
          signedParts(request).at,
        ),
      );
    }
  });
});
