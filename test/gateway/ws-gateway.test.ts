import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  GetConnectionCommand,
  GoneException,
  PayloadTooLargeException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { freePort } from '../../infra/local/free-port.ts';
import {
  startWsGateway,
  type WsEvent,
  type WsGateway,
  type WsGatewayRoute,
  type WsRouteResult,
} from '../../infra/local/ws-gateway.ts';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const waitFor = async (check: () => boolean, timeoutMs = 3_000): Promise<void> => {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
};

interface Client {
  readonly socket: WebSocket;
  readonly messages: string[];
  readonly closed: Promise<{ code: number; reason: string }>;
  next(): Promise<string>;
  sendJson(value: unknown): void;
}

const openClient = (url: string, protocols?: string[]): Promise<Client> =>
  new Promise((resolve, reject) => {
    const socket = new WebSocket(url, protocols);
    const messages: string[] = [];
    let consumed = 0;
    const closed = new Promise<{ code: number; reason: string }>((resolveClose) =>
      socket.on('close', (code, reason) => resolveClose({ code, reason: reason.toString() })),
    );
    socket.on('message', (data) => messages.push(data.toString()));
    socket.once('open', () =>
      resolve({
        socket,
        messages,
        closed,
        next: async () => {
          await waitFor(() => messages.length > consumed);
          const message = messages[consumed] ?? '';
          consumed += 1;
          return message;
        },
        sendJson: (value) => socket.send(JSON.stringify(value)),
      }),
    );
    socket.once('unexpected-response', (_request, response) =>
      reject(
        Object.assign(new Error(`unexpected response ${response.statusCode}`), {
          status: response.statusCode,
        }),
      ),
    );
    socket.once('error', reject);
  });

/** Attempts a connection that the gateway must refuse; resolves with the HTTP status and body. */
const refusedUpgrade = (url: string): Promise<{ status: number; body: string; opened: boolean }> =>
  new Promise((resolve) => {
    const socket = new WebSocket(url);
    let opened = false;
    socket.once('open', () => {
      opened = true;
    });
    socket.once('unexpected-response', (_request, response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () =>
        resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString(), opened }),
      );
    });
    socket.on('error', () => undefined);
  });

const ID_PATTERN = /^[A-Za-z0-9+/]{15}=$/;

describe('ws gateway (API Gateway WebSocket API)', () => {
  let gateway: WsGateway;
  let bare: WsGateway;
  const events: WsEvent[] = [];
  const disconnects = new Map<string, WsEvent[]>();
  const order: string[] = [];
  const eventsOf = (routeKey: string): WsEvent[] =>
    events.filter((event) => event.requestContext.routeKey === routeKey);
  const disconnectsOf = (connectionId: string): WsEvent[] => disconnects.get(connectionId) ?? [];
  const connectIdOf = (userAgentMarker: string): string => {
    const found = eventsOf('$connect').find(
      (event) => event.queryStringParameters?.marker === userAgentMarker,
    );
    if (!found) throw new Error(`no $connect for ${userAgentMarker}`);
    return found.requestContext.connectionId;
  };

  const route = (
    twoWay: boolean,
    invoke: (event: WsEvent) => Promise<WsRouteResult | undefined>,
  ): WsGatewayRoute => ({
    twoWay,
    invoke: async (event) => {
      events.push(event);
      return invoke(event);
    },
  });

  const routes = new Map<string, WsGatewayRoute>([
    [
      '$connect',
      route(false, async (event) => {
        const query = event.queryStringParameters ?? {};
        if (query.deny === '1') return { statusCode: 401, body: 'Unauthorized' };
        if (query.crash === '1') throw new Error('connect failure');
        if (query.noproto === '1') return { statusCode: 200 };
        const offered = event.headers?.['Sec-WebSocket-Protocol'];
        return offered
          ? { statusCode: 200, headers: { 'Sec-WebSocket-Protocol': offered.split(',')[0]?.trim() ?? '' } }
          : { statusCode: 200 };
      }),
    ],
    [
      '$disconnect',
      {
        twoWay: false,
        invoke: async (event) => {
          const id = event.requestContext.connectionId;
          disconnects.set(id, [...disconnectsOf(id), event]);
          return undefined;
        },
      },
    ],
    ['$default', route(true, async (event) => ({ statusCode: 200, body: `default:${event.body}` }))],
    ['echo', route(true, async (event) => ({ statusCode: 200, body: `echo:${event.body}` }))],
    ['oneWay', route(false, async () => ({ statusCode: 200, body: 'must not be sent' }))],
    [
      'boom',
      route(true, async () => {
        throw new Error('message failure');
      }),
    ],
    [
      'slow',
      route(true, async (event) => {
        const { n, delay } = JSON.parse(event.body ?? '{}') as { n: number; delay: number };
        await sleep(delay);
        order.push(`${event.requestContext.connectionId}:${n}`);
        return { body: String(n) };
      }),
    ],
  ]);

  beforeAll(async () => {
    gateway = await startWsGateway({ port: await freePort(), routes, maxFrameBytes: 4_096 });
    bare = await startWsGateway({
      port: await freePort(),
      routes: new Map([['echo', { twoWay: true, invoke: async (event: WsEvent) => ({ body: event.body }) }]]),
    });
  });

  afterAll(async () => {
    await gateway?.close();
    await bare?.close();
  });

  describe('$connect', () => {
    it('sends the AWS-shaped CONNECT event with headers, query string and an AWS-like connection id', async () => {
      // Act
      const client = await openClient(`${gateway.url}/local?marker=shape&token=abc&token=def`);
      // Assess
      const event = eventsOf('$connect').find(
        (candidate) => candidate.queryStringParameters?.marker === 'shape',
      );
      expect(event).toBeDefined();
      const context = event?.requestContext;
      expect(context).toMatchObject({
        routeKey: '$connect',
        eventType: 'CONNECT',
        messageDirection: 'IN',
        stage: 'local',
        domainName: `127.0.0.1:${gateway.port}`,
        apiId: expect.any(String),
        identity: { sourceIp: '127.0.0.1' },
      });
      expect(context?.connectionId).toMatch(ID_PATTERN);
      expect(context?.requestId).toMatch(ID_PATTERN);
      expect(context?.extendedRequestId).toBe(context?.requestId);
      expect(context?.requestTime).toMatch(/^\d{2}\/[A-Z][a-z]{2}\/\d{4}:\d{2}:\d{2}:\d{2} \+0000$/);
      expect(typeof context?.connectedAt).toBe('number');
      expect(typeof context?.requestTimeEpoch).toBe('number');
      expect(context).not.toHaveProperty('messageId');
      expect(event?.headers?.Host).toBe(`127.0.0.1:${gateway.port}`);
      expect(event?.headers?.['Sec-WebSocket-Key']).toBeTruthy();
      expect(event?.headers?.['X-Forwarded-For']).toBe('127.0.0.1');
      expect(event?.multiValueHeaders?.Host).toEqual([`127.0.0.1:${gateway.port}`]);
      expect(event?.queryStringParameters).toEqual({ marker: 'shape', token: 'def' });
      expect(event?.multiValueQueryStringParameters).toEqual({ marker: ['shape'], token: ['abc', 'def'] });
      expect(event?.isBase64Encoded).toBe(false);
      client.socket.close();
      await client.closed;
    });

    it('refuses the upgrade with the handler status when $connect returns non-2xx, and never sends $disconnect', async () => {
      // Prepare
      const countBefore = gateway.connectionCount();
      // Act
      const refused = await refusedUpgrade(`${gateway.url}?marker=denied&deny=1`);
      await sleep(100);
      // Assess
      expect(refused.status).toBe(401);
      expect(refused.body).toBe('Unauthorized');
      expect(refused.opened).toBe(false);
      expect(gateway.connectionCount()).toBe(countBefore);
      expect(disconnectsOf(connectIdOf('denied'))).toHaveLength(0);
    });

    it('refuses the upgrade with 500 when the $connect handler throws', async () => {
      // Act
      const refused = await refusedUpgrade(`${gateway.url}?marker=crash&crash=1`);
      await sleep(50);
      // Assess
      expect(refused.status).toBe(500);
      expect(disconnectsOf(connectIdOf('crash'))).toHaveLength(0);
    });

    it('accepts a subprotocol only when $connect echoes Sec-WebSocket-Protocol', async () => {
      // Act
      const client = await openClient(`${gateway.url}?marker=proto`, ['chat.v1', 'chat.v0']);
      // Assess
      expect(client.socket.protocol).toBe('chat.v1');
      client.socket.close();
      await client.closed;
    });

    it('fails the handshake when the client offers a subprotocol that $connect does not echo', async () => {
      // Act
      const outcome = await openClient(`${gateway.url}?marker=noproto&noproto=1`, ['chat.v1']).then(
        (client) => {
          client.socket.close();
          return 'opened';
        },
        (error: Error) => error.message,
      );
      // Assess
      expect(outcome).toMatch(/subprotocol/i);
    });
  });

  describe('messages', () => {
    it('selects the route from the JSON body action and sends the MESSAGE event shape', async () => {
      // Prepare
      const client = await openClient(`${gateway.url}?marker=route`);
      const connectionId = connectIdOf('route');
      // Act
      client.sendJson({ action: 'echo', value: 1 });
      const reply = await client.next();
      // Assess
      expect(reply).toBe('echo:{"action":"echo","value":1}');
      const event = eventsOf('echo').at(-1);
      expect(event?.requestContext).toMatchObject({
        routeKey: 'echo',
        eventType: 'MESSAGE',
        messageDirection: 'IN',
        connectionId,
        stage: 'local',
        identity: { sourceIp: '127.0.0.1' },
      });
      expect(event?.requestContext.messageId).toMatch(ID_PATTERN);
      expect(event?.body).toBe('{"action":"echo","value":1}');
      expect(event?.isBase64Encoded).toBe(false);
      client.socket.close();
      await client.closed;
    });

    it('falls back to $default for unknown actions, bodies without action and non-JSON bodies', async () => {
      // Prepare
      const client = await openClient(`${gateway.url}?marker=default`);
      // Act
      client.sendJson({ action: 'unknownAction' });
      const unknown = await client.next();
      client.sendJson({ no: 'action' });
      const noAction = await client.next();
      client.socket.send('plain text');
      const nonJson = await client.next();
      // Assess
      expect(unknown).toBe('default:{"action":"unknownAction"}');
      expect(noAction).toBe('default:{"no":"action"}');
      expect(nonJson).toBe('default:plain text');
      client.socket.close();
      await client.closed;
    });

    it('sends nothing back for a one-way route even when the handler returns a body', async () => {
      // Prepare
      const client = await openClient(`${gateway.url}?marker=oneway`);
      // Act
      client.sendJson({ action: 'oneWay' });
      client.sendJson({ action: 'echo' });
      const first = await client.next();
      // Assess
      expect(first).toBe('echo:{"action":"echo"}');
      expect(eventsOf('oneWay').length).toBeGreaterThan(0);
      client.socket.close();
      await client.closed;
    });

    it('sends AWS\'s "Internal server error" frame when the handler throws', async () => {
      // Prepare
      const client = await openClient(`${gateway.url}?marker=boom`);
      // Act
      client.sendJson({ action: 'boom' });
      const reply = JSON.parse(await client.next()) as Record<string, unknown>;
      // Assess
      expect(reply).toEqual({
        message: 'Internal server error',
        connectionId: connectIdOf('boom'),
        requestId: expect.stringMatching(ID_PATTERN),
      });
      client.socket.close();
      await client.closed;
    });

    it('sends AWS\'s "Forbidden" frame when no route matches and there is no $default', async () => {
      // Prepare
      const client = await openClient(bare.url);
      // Act
      client.sendJson({ action: 'nothing' });
      const reply = JSON.parse(await client.next()) as Record<string, unknown>;
      // Assess
      expect(reply).toEqual({
        message: 'Forbidden',
        connectionId: expect.stringMatching(ID_PATTERN),
        requestId: expect.stringMatching(ID_PATTERN),
      });
      client.socket.close();
      await client.closed;
    });

    it('handles the frames of one connection in arrival order', async () => {
      // Prepare
      const client = await openClient(`${gateway.url}?marker=order`);
      const connectionId = connectIdOf('order');
      // Act: earlier frames take longer; a concurrent gateway would finish them last.
      for (const [n, delay] of [
        [1, 120],
        [2, 60],
        [3, 0],
        [4, 30],
      ]) {
        client.sendJson({ action: 'slow', n, delay });
      }
      await waitFor(() => client.messages.length === 4);
      // Assess
      expect(client.messages).toEqual(['1', '2', '3', '4']);
      expect(order.filter((entry) => entry.startsWith(connectionId))).toEqual(
        [1, 2, 3, 4].map((n) => `${connectionId}:${n}`),
      );
      client.socket.close();
      await client.closed;
    });

    it('handles different connections concurrently', async () => {
      // Prepare
      const slowClient = await openClient(`${gateway.url}?marker=slowconn`);
      const fastClient = await openClient(`${gateway.url}?marker=fastconn`);
      // Act
      slowClient.sendJson({ action: 'slow', n: 1, delay: 400 });
      await sleep(20);
      const started = Date.now();
      fastClient.sendJson({ action: 'echo' });
      await fastClient.next();
      // Assess
      expect(Date.now() - started).toBeLessThan(300);
      expect(slowClient.messages).toHaveLength(0);
      await slowClient.next();
      slowClient.socket.close();
      fastClient.socket.close();
      await Promise.all([slowClient.closed, fastClient.closed]);
    });
  });

  describe('limits and $disconnect', () => {
    it('closes with 1009 when a frame exceeds maxFrameBytes and reports it in $disconnect', async () => {
      // Prepare
      const client = await openClient(`${gateway.url}?marker=big`);
      const connectionId = connectIdOf('big');
      // Act
      client.socket.send('x'.repeat(4_097));
      const closed = await client.closed;
      await waitFor(() => disconnectsOf(connectionId).length === 1);
      // Assess
      expect(closed.code).toBe(1009);
      expect(disconnectsOf(connectionId)[0]?.requestContext).toMatchObject({
        eventType: 'DISCONNECT',
        routeKey: '$disconnect',
        disconnectStatusCode: 1009,
      });
    });

    it('invokes $disconnect exactly once with the client close code and reason', async () => {
      // Prepare
      const client = await openClient(`${gateway.url}?marker=bye`);
      const connectionId = connectIdOf('bye');
      // Act
      client.socket.close(4000, 'bye');
      await client.closed;
      await waitFor(() => disconnectsOf(connectionId).length > 0);
      await sleep(150);
      // Assess
      const received = disconnectsOf(connectionId);
      expect(received).toHaveLength(1);
      expect(received[0]?.requestContext).toMatchObject({
        routeKey: '$disconnect',
        eventType: 'DISCONNECT',
        disconnectStatusCode: 4000,
        disconnectReason: 'bye',
        connectionId,
        identity: { sourceIp: '127.0.0.1' },
      });
      expect(received[0]?.requestContext).not.toHaveProperty('messageId');
      expect(gateway.connectionCount()).toBe(0);
    });

    it('reports an abrupt client drop as $disconnect 1006', async () => {
      // Prepare
      const client = await openClient(`${gateway.url}?marker=drop`);
      const connectionId = connectIdOf('drop');
      // Act
      client.socket.terminate();
      await waitFor(() => disconnectsOf(connectionId).length === 1);
      // Assess
      expect(disconnectsOf(connectionId)[0]?.requestContext.disconnectStatusCode).toBe(1006);
    });
  });
});

describe('ws gateway timeouts', () => {
  let idleGateway: WsGateway;
  let lifetimeGateway: WsGateway;
  const disconnects: WsEvent[] = [];
  const routes = (): Map<string, WsGatewayRoute> =>
    new Map<string, WsGatewayRoute>([
      ['$default', { twoWay: false, invoke: async () => undefined }],
      [
        '$disconnect',
        {
          twoWay: false,
          invoke: async (event) => {
            disconnects.push(event);
            return undefined;
          },
        },
      ],
    ]);

  beforeAll(async () => {
    idleGateway = await startWsGateway({ port: await freePort(), routes: routes(), idleTimeoutMs: 300 });
    lifetimeGateway = await startWsGateway({
      port: await freePort(),
      routes: routes(),
      idleTimeoutMs: 10_000,
      maxConnectionMs: 500,
    });
  });

  afterAll(async () => {
    await idleGateway?.close();
    await lifetimeGateway?.close();
  });

  it('keeps a connection that sends frames and closes an idle one with 1001 "Going away"', async () => {
    // Prepare
    const active = await openClient(idleGateway.url);
    const idle = await openClient(idleGateway.url);
    // Act
    for (let tick = 0; tick < 5; tick++) {
      await sleep(100);
      active.socket.send('still here');
    }
    const idleClosed = await idle.closed;
    // Assess
    expect(idleClosed).toEqual({ code: 1001, reason: 'Going away' });
    expect(active.socket.readyState).toBe(WebSocket.OPEN);
    await waitFor(() => disconnects.some((event) => event.requestContext.disconnectStatusCode === 1001));
    expect(
      disconnects.find((event) => event.requestContext.disconnectStatusCode === 1001)?.requestContext,
    ).toMatchObject({
      disconnectReason: 'Going away',
    });
    active.socket.close();
    await active.closed;
  });

  it('closes a connection with 1001 once it reaches the maximum lifetime, even while active', async () => {
    // Prepare
    const client = await openClient(lifetimeGateway.url);
    const opened = Date.now();
    const ticker = setInterval(
      () => client.socket.readyState === WebSocket.OPEN && client.socket.send('tick'),
      50,
    );
    // Act
    const closed = await client.closed;
    clearInterval(ticker);
    // Assess
    expect(closed.code).toBe(1001);
    expect(Date.now() - opened).toBeGreaterThanOrEqual(450);
    expect(Date.now() - opened).toBeLessThan(2_000);
  });
});

describe('ws gateway @connections management API (real SDK client)', () => {
  let gateway: WsGateway;
  let management: ApiGatewayManagementApiClient;
  let stagedManagement: ApiGatewayManagementApiClient;
  const connects: WsEvent[] = [];
  const disconnects: WsEvent[] = [];

  beforeAll(async () => {
    gateway = await startWsGateway({
      port: await freePort(),
      routes: new Map<string, WsGatewayRoute>([
        [
          '$connect',
          {
            twoWay: false,
            invoke: async (event) => {
              connects.push(event);
              return { statusCode: 200 };
            },
          },
        ],
        [
          '$disconnect',
          {
            twoWay: false,
            invoke: async (event) => {
              disconnects.push(event);
              return undefined;
            },
          },
        ],
      ]),
    });
    const config = {
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    };
    management = new ApiGatewayManagementApiClient({ ...config, endpoint: gateway.managementEndpoint });
    stagedManagement = new ApiGatewayManagementApiClient({
      ...config,
      endpoint: `${gateway.managementEndpoint}/local`,
    });
  });

  afterAll(async () => {
    management?.destroy();
    stagedManagement?.destroy();
    await gateway?.close();
  });

  const connectAndGetId = async (): Promise<{ client: Client; connectionId: string }> => {
    const before = connects.length;
    const client = await openClient(`${gateway.url}/local`, undefined);
    await waitFor(() => connects.length > before);
    const connectionId = connects.at(-1)?.requestContext.connectionId ?? '';
    return { client, connectionId };
  };

  it('POST delivers the raw payload to the socket as a text frame (with and without the stage prefix)', async () => {
    // Prepare
    const { client, connectionId } = await connectAndGetId();
    // Act
    await management.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.from('{"type":"hello"}') }),
    );
    const first = await client.next();
    await stagedManagement.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'second' }));
    const second = await client.next();
    // Assess
    expect(first).toBe('{"type":"hello"}');
    expect(second).toBe('second');
    client.socket.close();
    await client.closed;
  });

  it('GET returns ConnectedAt, Identity and LastActiveAt', async () => {
    // Prepare
    const { client, connectionId } = await connectAndGetId();
    client.socket.send('activity');
    await sleep(30);
    // Act
    const info = await management.send(new GetConnectionCommand({ ConnectionId: connectionId }));
    // Assess
    expect(info.ConnectedAt).toBeInstanceOf(Date);
    expect(Math.abs((info.ConnectedAt?.getTime() ?? 0) - Date.now())).toBeLessThan(5_000);
    expect(info.LastActiveAt?.getTime()).toBeGreaterThanOrEqual(info.ConnectedAt?.getTime() ?? 0);
    expect(info.Identity?.SourceIp).toBe('127.0.0.1');
    expect(typeof info.Identity?.UserAgent).toBe('string');
    client.socket.close();
    await client.closed;
  });

  it('DELETE answers 204, closes the socket and triggers $disconnect once', async () => {
    // Prepare
    const { client, connectionId } = await connectAndGetId();
    // Act
    const output = await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    await client.closed;
    await waitFor(() => disconnects.some((event) => event.requestContext.connectionId === connectionId));
    await sleep(100);
    // Assess
    expect(output.$metadata.httpStatusCode).toBe(204);
    expect(disconnects.filter((event) => event.requestContext.connectionId === connectionId)).toHaveLength(1);
    await expect(
      management.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: 'late' })),
    ).rejects.toBeInstanceOf(GoneException);
  });

  it('answers GoneException (410) for unknown connection ids on POST, GET and DELETE', async () => {
    // Prepare
    const unknown = 'AAAAAAAAAAAAAAA=';
    // Act / Assess
    await expect(
      management.send(new PostToConnectionCommand({ ConnectionId: unknown, Data: 'x' })),
    ).rejects.toSatisfy((error) => error instanceof GoneException && error.$metadata.httpStatusCode === 410);
    await expect(management.send(new GetConnectionCommand({ ConnectionId: unknown }))).rejects.toBeInstanceOf(
      GoneException,
    );
    await expect(
      management.send(new DeleteConnectionCommand({ ConnectionId: unknown })),
    ).rejects.toBeInstanceOf(GoneException);
  });

  it('answers PayloadTooLargeException (413) for payloads over 128 KB', async () => {
    // Prepare
    const { client, connectionId } = await connectAndGetId();
    // Act
    const attempt = management.send(
      new PostToConnectionCommand({ ConnectionId: connectionId, Data: Buffer.alloc(128 * 1024 + 1, 0x61) }),
    );
    // Assess
    await expect(attempt).rejects.toBeInstanceOf(PayloadTooLargeException);
    client.socket.close();
    await client.closed;
  });

  it('decodes URL-encoded connection ids', async () => {
    // Prepare
    const { client, connectionId } = await connectAndGetId();
    // Act
    const response = await fetch(
      `${gateway.managementEndpoint}/@connections/${encodeURIComponent(connectionId)}`,
      {
        method: 'POST',
        body: 'encoded',
      },
    );
    // Assess
    expect(response.status).toBe(200);
    expect(await client.next()).toBe('encoded');
    client.socket.close();
    await client.closed;
  });
});

describe('ws gateway $connect admission (local capacity)', () => {
  /**
   * A gateway running one $connect at a time, whose $connect for `?marker=holder` returns only once
   * `release()` is called; `started` lists the markers whose $connect ran, in order.
   */
  const oneSlotGateway = async (connectQueueMs: number) => {
    const started: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gateway = await startWsGateway({
      port: await freePort(),
      connectConcurrency: 1,
      connectQueueMs,
      routes: new Map<string, WsGatewayRoute>([
        [
          '$connect',
          {
            twoWay: false,
            invoke: async (event) => {
              const marker = event.queryStringParameters?.marker ?? '';
              started.push(marker);
              if (marker === 'holder') await held;
              return { statusCode: 200 };
            },
          },
        ],
        ['$disconnect', { twoWay: false, invoke: async () => undefined }],
      ]),
    });
    return { gateway, started, release: () => release() };
  };

  it('answers 429 Too Many Requests to a $connect that cannot start within connectQueueMs, without running it', async () => {
    // Prepare: the only slot is held by a $connect that has not returned
    const { gateway, started, release } = await oneSlotGateway(200);
    try {
      const holder = openClient(`${gateway.url}?marker=holder`);
      await waitFor(() => started.includes('holder'));

      // Act
      const refused = await refusedUpgrade(`${gateway.url}?marker=shed`);
      release();
      const opened = await holder;
      const next = await openClient(`${gateway.url}?marker=next`);

      // Assess: shed, never invoked; the slot serves the next connect once free
      expect(refused.status).toBe(429);
      expect(JSON.parse(refused.body)).toEqual({ message: 'Too Many Requests' });
      expect(refused.opened).toBe(false);
      expect(started).toEqual(['holder', 'next']);
      opened.socket.close();
      next.socket.close();
    } finally {
      release();
      await gateway.close();
    }
  });

  it('runs at most disconnectConcurrency $disconnect at once, every queued one once a slot frees, and settles after them', async () => {
    // Prepare: $disconnect holds its slot until released
    const running: string[] = [];
    const done: string[] = [];
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const gateway = await startWsGateway({
      port: await freePort(),
      disconnectConcurrency: 2,
      routes: new Map<string, WsGatewayRoute>([
        ['$connect', { twoWay: false, invoke: async () => ({ statusCode: 200 }) }],
        [
          '$disconnect',
          {
            twoWay: false,
            invoke: async (event) => {
              running.push(event.requestContext.connectionId);
              await held;
              done.push(event.requestContext.connectionId);
            },
          },
        ],
      ]),
    });
    try {
      const clients = await Promise.all([1, 2, 3, 4].map(() => openClient(gateway.url)));

      // Act
      for (const client of clients) client.socket.terminate();
      await waitFor(() => running.length === 2);
      const whileHeld = running.length;
      release();
      await gateway.settled();

      // Assess: two at a time, then the queued two, all finished once the gateway has settled
      expect(whileHeld).toBe(2);
      expect(running).toHaveLength(4);
      expect(new Set(done).size).toBe(4);
    } finally {
      release();
      await gateway.close();
    }
  });

  it('runs a queued $connect that gets its slot within connectQueueMs', async () => {
    // Prepare: the only slot is held, a second connect waits for it
    const { gateway, started, release } = await oneSlotGateway(5_000);
    try {
      const holder = openClient(`${gateway.url}?marker=holder`);
      await waitFor(() => started.includes('holder'));
      const waiting = openClient(`${gateway.url}?marker=waiting`);

      // Act
      release();
      const [a, b] = await Promise.all([holder, waiting]);

      // Assess: both open, the queued one run after the holder
      expect(a.socket.readyState).toBe(WebSocket.OPEN);
      expect(b.socket.readyState).toBe(WebSocket.OPEN);
      expect(started).toEqual(['holder', 'waiting']);
      a.socket.close();
      b.socket.close();
    } finally {
      release();
      await gateway.close();
    }
  });
});
