/**
 * `npm run bench:posts`: the CPU one @connections post costs its sender, for the ways of making it — the
 * AWS SDK's `ApiGatewayManagementApiClient` (as it was tuned: `cacheMiddleware`, one attempt, keep-alive),
 * the SDK's `SignatureV4` class over `node:http`, this project's client (shared/adapters/pusher.ts with
 * sigv4.ts), and an unsigned `node:http` post as the floor. A stand-in endpoint in a child process answers
 * 200 to every post and reports its own CPU, so the figures are the sender's alone. Each way posts
 * `--posts` frames (default 6,000) of a 230-byte envelope at concurrency 32, once to warm up and once
 * measured. docs/operations.md ("Fan-out at scale") has the results.
 */
import { fork } from 'node:child_process';
import { Agent, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { SignatureV4 } from '@smithy/signature-v4';
import { ApiGatewayPusher } from '../../shared/adapters/pusher.ts';
import { NodeSha256 } from '../support/sha256.ts';

const CREDENTIALS = { accessKeyId: 'AKIDBENCH', secretAccessKey: 'bench-secret-bench-secret' };
const REGION = 'us-east-1';

if (process.argv[2] === 'endpoint') {
  // The stand-in endpoint: 200 to everything; asked "cpu", tells its CPU ms so far.
  const server = createServer((incoming, response) => {
    incoming.resume();
    incoming.on('end', () => response.writeHead(200, { 'content-type': 'application/json' }).end());
  });
  server.listen(0, '127.0.0.1', () => process.send?.((server.address() as AddressInfo).port));
  process.on('message', () => {
    const { user, system } = process.cpuUsage();
    process.send?.((user + system) / 1000);
  });
} else {
  const postsArg = process.argv.indexOf('--posts');
  const posts = postsArg > 0 ? Number(process.argv[postsArg + 1]) : 6_000;
  if (!Number.isInteger(posts) || posts < 100) throw new Error('--posts takes a whole number ≥ 100');
  Object.assign(process.env, {
    AWS_ACCESS_KEY_ID: CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: CREDENTIALS.secretAccessKey,
    AWS_REGION: REGION,
  });
  const endpointProcess = fork(new URL(import.meta.url).pathname, ['endpoint'], {
    execArgv: process.execArgv,
  });
  const port = await new Promise<number>((resolve) =>
    endpointProcess.once('message', (value) => resolve(value as number)),
  );
  /** The endpoint's CPU ms so far. */
  const endpointCpuMs = (): Promise<number> =>
    new Promise((resolve) => {
      endpointProcess.once('message', (value) => resolve(value as number));
      endpointProcess.send('cpu');
    });
  const host = `127.0.0.1:${port}`;
  const endpoint = `http://${host}/prod`;
  const payload = JSON.stringify({
    type: 'message.created',
    tenantId: 'demo',
    chatId: `ch_${'a'.repeat(20)}`,
    seq: 42,
    at: new Date().toISOString(),
    data: { messageId: `m_${'b'.repeat(24)}`, clientMessageId: 'c'.repeat(20), text: 'x'.repeat(64) },
  });

  const agent = new Agent({ keepAlive: true, maxSockets: 50 });
  const rawPost = (path: string, headers: Record<string, string>): Promise<void> =>
    new Promise((resolve, reject) => {
      const outgoing = request(
        { host: '127.0.0.1', port, method: 'POST', path, agent, headers },
        (response) => {
          response.resume();
          response.on('end', () => resolve());
        },
      );
      outgoing.on('error', reject);
      outgoing.end(payload);
    });
  const sdk = new ApiGatewayManagementApiClient({
    endpoint,
    region: REGION,
    credentials: CREDENTIALS,
    maxAttempts: 1,
    cacheMiddleware: true,
    requestHandler: { httpAgent: { keepAlive: true, maxSockets: 50 } },
  });
  const smithy = new SignatureV4({
    credentials: CREDENTIALS,
    region: REGION,
    service: 'execute-api',
    sha256: NodeSha256,
  });
  const ours = new ApiGatewayPusher(endpoint, () => CREDENTIALS);
  const ways: Record<string, (connectionId: string) => Promise<unknown>> = {
    'SDK client (PostToConnection)': (id) =>
      sdk.send(new PostToConnectionCommand({ ConnectionId: id, Data: payload })),
    'SDK SignatureV4 + node:http': async (id) => {
      const path = `/prod/@connections/${encodeURIComponent(id)}`;
      const signed = await smithy.sign({
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        port,
        path,
        query: {},
        headers: {
          host,
          'content-type': 'application/octet-stream',
          'content-length': String(Buffer.byteLength(payload)),
        },
        body: payload,
      });
      await rawPost(path, signed.headers);
    },
    'pusher.ts (sigv4.ts + node:http)': (id) => ours.post(id, payload),
    'unsigned node:http (floor)': (id) =>
      rawPost(`/prod/@connections/${encodeURIComponent(id)}`, { 'content-type': 'application/octet-stream' }),
  };

  const rows: string[][] = [];
  for (const measured of [false, true]) {
    for (const [name, post] of Object.entries(ways)) {
      const endpointBefore = await endpointCpuMs();
      const before = process.cpuUsage();
      const started = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < posts) await post(`conn${next++}=`);
        }),
      );
      const wallMs = performance.now() - started;
      const cpu = process.cpuUsage(before);
      const endpointMs = (await endpointCpuMs()) - endpointBefore;
      if (measured) {
        rows.push([
          name,
          (((cpu.user + cpu.system) / 1000 / posts) * 1000).toFixed(0),
          ((endpointMs / posts) * 1000).toFixed(0),
          ((posts / wallMs) * 1000).toFixed(0),
        ]);
      }
    }
  }
  endpointProcess.kill();
  agent.destroy();
  sdk.destroy();

  const header = ['way of posting', 'sender µs CPU/post', 'endpoint µs CPU/post', 'posts/s'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]?.length ?? 0)),
  );
  const line = (cells: string[]) =>
    cells
      .map((cell, column) =>
        column === 0 ? cell.padEnd(widths[0] ?? 0) : cell.padStart(widths[column] ?? 0),
      )
      .join('  ');
  console.log(`${posts} posts of ${Buffer.byteLength(payload)} B at concurrency 32, node ${process.version}`);
  console.log(line(header));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(row));
}
