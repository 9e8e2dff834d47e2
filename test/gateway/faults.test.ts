/**
 * The local cloud's fault plan (infra/local/faults.ts): parsing and seeded decisions, the DynamoDB fault
 * proxy's wire answers as the AWS SDK reads them, and the WebSocket gateway's @connections faults,
 * socket drops and restart.
 */
import {
  ApiGatewayManagementApiClient,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createServer } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { startDynamoFaultProxy } from '../../infra/local/dynamo-faults.ts';
import { FaultInjector, type FaultPlan, FULL_PLAN, parseFaultPlan } from '../../infra/local/faults.ts';
import { listen } from '../../infra/local/free-port.ts';
import { startWsGateway, type WsEvent, type WsGateway } from '../../infra/local/ws-gateway.ts';

const stops: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

describe('fault plan', () => {
  it('accepts the full plan and refuses a share above 1, naming the field', () => {
    expect(parseFaultPlan(FULL_PLAN)).toEqual(FULL_PLAN);
    expect(() => parseFaultPlan({ connections: { limitExceeded: 1.5 } })).toThrow(
      /connections\.limitExceeded/,
    );
    expect(() => parseFaultPlan({ connections: { teapot: 0.1 } })).toThrow();
  });

  it('makes the same decisions for the same seed, and other ones for another seed', () => {
    const draws = (seed: number) => {
      const faults = new FaultInjector({ seed });
      return Array.from({ length: 50 }, () => faults.pick('site', { a: 0.3, b: 0.3 }) ?? '-').join('');
    };

    expect(draws(7)).toBe(draws(7));
    expect(draws(7)).not.toBe(draws(8));
  });

  it('fires each outcome at about its share and counts it', () => {
    const faults = new FaultInjector({ seed: 3 });
    for (let i = 0; i < 10_000; i++) faults.pick('x', { gone: 0.1, hang: 0.05, hangMs: 5_000 });

    const counts = faults.counts();
    expect(counts['x.gone']).toBeGreaterThan(900);
    expect(counts['x.gone']).toBeLessThan(1100);
    expect(counts['x.hang']).toBeGreaterThan(400);
    expect(counts['x.hang']).toBeLessThan(600);
    expect(counts['x.hangMs']).toBeUndefined();
  });
});

describe('DynamoDB fault proxy', () => {
  const proxyWith = async (plan: FaultPlan) => {
    // A stand-in for DynamoDB Local: answers ListTables.
    const upstream = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
        res.end('{"TableNames":["t"]}');
      });
    });
    const port = await listen(upstream, 0, '127.0.0.1');
    const proxy = await startDynamoFaultProxy({
      upstream: `http://127.0.0.1:${port}`,
      faults: new FaultInjector(plan),
    });
    const client = new DynamoDBClient({
      endpoint: proxy.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    stops.push(async () => {
      client.destroy();
      await proxy.close();
      await new Promise((resolve) => upstream.close(resolve));
    });
    return client;
  };

  it.each([
    ['throughputExceeded', 'ProvisionedThroughputExceededException', 400],
    ['throttling', 'ThrottlingException', 400],
    ['internalError', 'InternalServerError', 500],
  ] as const)('answers %s as the SDK’s %s (HTTP %i)', async (fault, name, status) => {
    const client = await proxyWith({ dynamo: { ListTables: { [fault]: 1 } } });

    const error = await client.send(new ListTablesCommand({})).catch((thrown: unknown) => thrown);

    expect(error).toMatchObject({ name, $metadata: { httpStatusCode: status } });
  });

  it('forwards the calls no fault picks, and applies `*` to operations not listed', async () => {
    const spared = await proxyWith({ dynamo: { PutItem: { throttling: 1 } } });
    const hit = await proxyWith({ dynamo: { '*': { throttling: 1 } } });

    await expect(spared.send(new ListTablesCommand({}))).resolves.toMatchObject({ TableNames: ['t'] });
    await expect(hit.send(new ListTablesCommand({}))).rejects.toMatchObject({ name: 'ThrottlingException' });
  });
});

describe('WebSocket gateway faults', () => {
  const gatewayWith = async (plan: FaultPlan) => {
    const disconnects: WsEvent[] = [];
    const connected: string[] = [];
    const gateway: WsGateway = await startWsGateway({
      port: 0,
      faults: new FaultInjector(plan),
      routes: new Map([
        [
          '$connect',
          {
            twoWay: false,
            invoke: async (event: WsEvent) => void connected.push(event.requestContext.connectionId),
          },
        ],
        ['$disconnect', { twoWay: false, invoke: async (event: WsEvent) => void disconnects.push(event) }],
      ]),
    });
    const management = new ApiGatewayManagementApiClient({
      endpoint: gateway.managementEndpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: 'local', secretAccessKey: 'local' },
      maxAttempts: 1,
    });
    stops.push(async () => {
      management.destroy();
      await gateway.close();
    });
    const open = async () => {
      const socket = new WebSocket(gateway.url);
      const closed = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
      await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
      return { socket, closed, connectionId: connected.at(-1) as string };
    };
    return { gateway, management, open, disconnects };
  };

  it('answers a post 429 LimitExceededException and delivers nothing', async () => {
    const { management, open } = await gatewayWith({ connections: { limitExceeded: 1 } });
    const client = await open();
    const received: string[] = [];
    client.socket.on('message', (data) => received.push(String(data)));

    const error = await management
      .send(new PostToConnectionCommand({ ConnectionId: client.connectionId, Data: 'x' }))
      .catch((thrown: unknown) => thrown);

    expect(error).toBeInstanceOf(LimitExceededException);
    expect(error).toMatchObject({ $metadata: { httpStatusCode: 429 } });
    expect(received).toEqual([]);
    client.socket.close();
  });

  it('loses the connection of a post answered 410: the socket drops and $disconnect runs once', async () => {
    const { management, open, disconnects } = await gatewayWith({ connections: { gone: 1 } });
    const client = await open();

    const error = await management
      .send(new PostToConnectionCommand({ ConnectionId: client.connectionId, Data: 'x' }))
      .catch((thrown: unknown) => thrown);

    expect(error).toMatchObject({ name: 'GoneException' });
    expect(await client.closed).toBe(1006);
    await expect.poll(() => disconnects.length).toBe(1);
    expect(disconnects[0]?.requestContext.disconnectStatusCode).toBe(1006);
  });

  it('restarts: every socket closed with 1001, then new connections on the same port', async () => {
    const { gateway, open, disconnects } = await gatewayWith({});
    const first = await open();

    await gateway.restart(50);

    expect(await first.closed).toBe(1001);
    await expect.poll(() => disconnects.length).toBe(1);
    const second = await open();
    expect(second.connectionId).not.toBe(first.connectionId);
    second.socket.close();
    await second.closed;
  });
});
