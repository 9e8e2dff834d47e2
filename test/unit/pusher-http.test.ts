/**
 * The @connections client against a stand-in endpoint over real HTTP (no client mock): the connection
 * pool it keeps, and a 410 read from the wire.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayPusher, PUSH_MAX_SOCKETS, PUSH_TIMEOUT_MS } from '../../shared/adapters/pusher.ts';

describe('ApiGatewayPusher over HTTP', () => {
  // A stand-in @connections endpoint: 200 for every post, 410 for connection ids starting with "gone".
  // It holds its answers until `holdUntil` posts are in flight (0: answers at once), so a pool that
  // allowed fewer sockets would never get its answers, and one that allowed more would open more.
  let server: Server;
  let endpoint = '';
  let connections = 0;
  let inFlight = 0;
  let mostInFlight = 0;
  let holdUntil = 0;
  const held: (() => void)[] = [];

  beforeAll(async () => {
    server = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        inFlight++;
        mostInFlight = Math.max(mostInFlight, inFlight);
        const url = decodeURIComponent(request.url ?? '');
        held.push(() => {
          inFlight--;
          const gone = url.includes('/@connections/gone');
          response.writeHead(gone ? 410 : 200, {
            'content-type': 'application/json',
            ...(gone ? { 'x-amzn-errortype': 'GoneException' } : {}),
          });
          response.end(gone ? '{"message":null}' : '');
        });
        // "slow…" connections: answered after a hung post's time-out (the close is given longer)
        if (url.includes('/@connections/slow')) {
          const answer = held.pop();
          setTimeout(() => answer?.(), PUSH_TIMEOUT_MS + 500);
          return;
        }
        if (inFlight >= holdUntil) {
          holdUntil = 0;
          for (const answer of held.splice(0)) answer();
        }
      });
    });
    server.on('connection', () => connections++);
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    connections = 0;
    mostInFlight = 0;
    holdUntil = 0;
  });
  afterAll(() => new Promise<void>((done) => server.close(() => done())));

  it('reuses one kept-alive connection for posts made one after the other', async () => {
    // Prepare
    const pusher = new ApiGatewayPusher(endpoint);

    // Act
    for (let i = 0; i < 5; i++) await pusher.post(`c${i}=`, 'x');

    // Assess
    expect(connections).toBe(1);
  });

  it('opens PUSH_MAX_SOCKETS connections for concurrent posts, and queues the others on them', async () => {
    // Prepare: twice as many posts as sockets; the endpoint answers once PUSH_MAX_SOCKETS are in flight
    const pusher = new ApiGatewayPusher(endpoint);
    holdUntil = PUSH_MAX_SOCKETS;

    // Act
    const results = await Promise.all(
      Array.from({ length: PUSH_MAX_SOCKETS * 2 }, (_, i) => pusher.post(`c${i}=`, 'x')),
    );

    // Assess
    expect(results.every((result) => result === 'delivered')).toBe(true);
    expect(mostInFlight).toBe(PUSH_MAX_SOCKETS);
    expect(connections).toBe(PUSH_MAX_SOCKETS);
  });

  it('reads a 410 from the wire as a gone connection', async () => {
    // Prepare
    const pusher = new ApiGatewayPusher(endpoint);

    // Act
    const result = await pusher.post('gone=', 'x');

    // Assess
    expect(result).toBe('gone');
  });

  it('gives up a post unanswered after PUSH_TIMEOUT_MS, but waits longer for the close that follows it', async () => {
    // Prepare: the endpoint answers "slow" connections only after PUSH_TIMEOUT_MS + 0.5 s
    const pusher = new ApiGatewayPusher(endpoint);

    // Act
    const post = pusher.post('slow=', 'x').then(
      () => 'answered',
      (error: Error) => error.name,
    );
    const close = pusher.disconnect('slow=');

    // Assess
    expect(await post).toBe('TimeoutError');
    await expect(close).resolves.toBe('closed');
  });
});
