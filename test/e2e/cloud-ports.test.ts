/**
 * The local cloud's ports: every port it picks for itself is checked free before anything binds it, so a
 * later pick must not repeat an earlier one (each would still look free); and a port that turns out to be
 * in use fails the start with the error, stopping what had started.
 */
import { createServer } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../infra/local/cloud.ts';
import { freePorts, listen } from '../../infra/local/free-port.ts';
import { dynamoPidOn } from '../bench/cpu.ts';

let cloud: LocalCloud | undefined;
afterEach(async () => {
  vi.restoreAllMocks();
  await cloud?.stop();
  cloud = undefined;
});

describe('startLocalCloud ports', () => {
  it('picks five distinct ports even when every random pick lands on the same port', async () => {
    // Prepare: each pick's first try is the same port
    vi.spyOn(Math, 'random').mockReturnValue(0.5);

    // Act
    cloud = await startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0 });

    // Assess
    const ports = Object.values(cloud.urls).map((url) => new URL(url).port);
    expect(ports).toHaveLength(5);
    expect(new Set(ports).size).toBe(5);
    expect((await fetch(`${cloud.urls.http}/v1/chats`)).status).toBe(401);
  });

  it('fails its start with EADDRINUSE when the S3 port is taken, and leaves no DynamoDB Local running', async () => {
    // Prepare
    const [s3Port = 0, dynamoPort = 0] = await freePorts(2);
    const squatter = createServer();
    await listen(squatter, s3Port, '127.0.0.1');

    // Act
    const start = startLocalCloud({ webPort: 0, httpPort: 0, wsPort: 0, s3Port, dynamoPort });

    // Assess
    try {
      await expect(start).rejects.toMatchObject({ code: 'EADDRINUSE' });
      expect(dynamoPidOn(String(dynamoPort))).toBeUndefined();
    } finally {
      squatter.close();
    }
  });
});
