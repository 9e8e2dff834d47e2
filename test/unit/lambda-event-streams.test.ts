/**
 * The deployed bundles' stand-in for the SDK's event-stream codec (shared/adapters/lambda-event-streams.ts):
 * it fails clearly if an event stream is ever asked for, and the clients the functions bundle still work
 * with it in place — the S3 client, whose constructor calls it, signs requests as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import {
  EventStreamSerde,
  eventStreamSerdeProvider,
  resolveEventStreamSerdeConfig,
} from '../../shared/adapters/lambda-event-streams.ts';
import { bundleSource } from '../support/lambda-bundles.ts';

const NOT_BUNDLED = /event streams are not bundled/;

describe('lambda event-stream stand-in', () => {
  it('fails with a clear error when a protocol loads the event-stream capability', () => {
    // Act
    const constructing = () => new EventStreamSerde({});
    const providing = () => eventStreamSerdeProvider({});

    // Assess
    expect(constructing).toThrow(NOT_BUNDLED);
    expect(providing).toThrow(NOT_BUNDLED);
  });

  it('gives a client config a marshaller that fails clearly in both directions, and keeps the rest of the config', () => {
    // Prepare
    const config = { region: 'eu-west-1' };

    // Act
    const resolved = resolveEventStreamSerdeConfig(config);

    // Assess
    expect(resolved).toBe(config);
    expect(resolved.region).toBe('eu-west-1');
    expect(() => resolved.eventStreamMarshaller.serialize()).toThrow(NOT_BUNDLED);
    expect(() => resolved.eventStreamMarshaller.deserialize()).toThrow(NOT_BUNDLED);
  });
});

describe('an S3 client bundled with the stack’s options (the stand-in in place)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chat-event-streams-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is built without the SDK’s event-stream code and still signs a download URL', async () => {
    // Prepare
    const entry = `
      import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
      import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
      export const sign = () => getSignedUrl(
        new S3Client({ region: 'eu-west-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret' } }),
        new GetObjectCommand({ Bucket: 'attachments-example', Key: 't1/c1/file.png' }),
        { expiresIn: 300 },
      );`;
    const file = join(dir, 'index.mjs');
    const { metafile } = await bundleSource(entry, file);

    // Act
    const { sign } = (await import(pathToFileURL(file).href)) as { sign: () => Promise<string> };
    const url = new URL(await sign());

    // Assess
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.filter((input) => input.includes('/submodules/event-streams/'))).toEqual([]);
    expect(inputs.some((input) => input.endsWith('shared/adapters/lambda-event-streams.ts'))).toBe(true);
    expect(url.hostname).toBe('attachments-example.s3.eu-west-1.amazonaws.com');
    expect(url.pathname).toBe('/t1/c1/file.png');
    expect(url.searchParams.get('X-Amz-Expires')).toBe('300');
    expect(url.searchParams.get('X-Amz-Signature')).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);
});
