/**
 * A stand-in for API Gateway's @connections API over real HTTP, for unit tests of the code that pushes
 * (the pusher, the fan-out): it records every call and answers each as the test says — 200 (204 for a
 * DELETE), 410 `GoneException`, or any other status with its `x-amzn-errortype`, the way API Gateway
 * answers (restJson1: the error type in that header, `{"message": …}` as the body).
 */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectionsCall {
  readonly method: string;
  /** Decoded from the path. */
  readonly connectionId: string;
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

export type ConnectionsAnswer = 'ok' | 'gone' | { readonly status: number; readonly type: string };

export interface ConnectionsEndpoint {
  /** Give this as the endpoint (a stage path, `/prod`, is included as on AWS). */
  readonly endpoint: string;
  /** How calls of `method` (to `connectionId`, or to any) are answered from now on; later rules win. */
  answer(method: 'POST' | 'DELETE', connectionId: string | undefined, answer: ConnectionsAnswer): void;
  /** Every call so far, in arrival order, optionally of one method and connection. */
  calls(method?: 'POST' | 'DELETE', connectionId?: string): ConnectionsCall[];
  /** Forgets the calls and the answers (everything is 'ok' again). */
  reset(): void;
  close(): Promise<void>;
}

export const startConnectionsEndpoint = async (): Promise<ConnectionsEndpoint> => {
  const calls: ConnectionsCall[] = [];
  let rules: { method: string; connectionId: string | undefined; answer: ConnectionsAnswer }[] = [];
  const pathPattern = /^\/prod\/@connections\/([^/]+)$/;

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      const match = pathPattern.exec(path);
      if (!match?.[1]) {
        response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
        return;
      }
      const call: ConnectionsCall = {
        method: request.method ?? '',
        connectionId: decodeURIComponent(match[1]),
        path,
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      calls.push(call);
      const rule = rules.findLast(
        (r) =>
          r.method === call.method && (r.connectionId === undefined || r.connectionId === call.connectionId),
      );
      const answer = rule?.answer ?? 'ok';
      if (answer === 'ok') {
        response.writeHead(call.method === 'DELETE' ? 204 : 200).end();
      } else {
        const { status, type } = answer === 'gone' ? { status: 410, type: 'GoneException' } : answer;
        response
          .writeHead(status, { 'content-type': 'application/json', 'x-amzn-errortype': type })
          .end(JSON.stringify({ message: answer === 'gone' ? null : type }));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    endpoint: `http://127.0.0.1:${port}/prod`,
    answer: (method, connectionId, answer) => rules.push({ method, connectionId, answer }),
    calls: (method, connectionId) =>
      calls.filter(
        (call) =>
          (method === undefined || call.method === method) &&
          (connectionId === undefined || call.connectionId === connectionId),
      ),
    reset: () => {
      calls.length = 0;
      rules = [];
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
