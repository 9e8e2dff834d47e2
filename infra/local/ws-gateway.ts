/**
 * An emulated API Gateway WebSocket API in front of plain handler functions, so the same Lambda handler code
 * runs unchanged locally. One node http server serves the WebSocket upgrade and the `@connections`
 * management API (exactly as `@aws-sdk/client-apigatewaymanagementapi` calls it). Behaviour mirrored from
 * AWS: `$connect` decides whether the upgrade happens at all; routes are selected by
 * `$request.body.action`; two-way routes send the handler's body back; the gateway's own error frames
 * (Forbidden, Internal server error); frame-size, idle and lifetime limits; `$disconnect` exactly once.
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import type {
  APIGatewayEventWebsocketRequestContextV2,
  APIGatewayProxyWebsocketEventV2,
  Context,
} from 'aws-lambda';
import { type RawData, type WebSocket, WebSocketServer } from 'ws';
import { listen } from './free-port.ts';
import type { FaultInjector } from './faults.ts';
import { apiGatewayId, clfTime, sourceIpOf } from './http-gateway.ts';
import { createLambdaContext } from './lambda-context.ts';

export interface WsRequestContext extends APIGatewayEventWebsocketRequestContextV2 {
  identity: { sourceIp: string; userAgent?: string };
  /** `$disconnect` only. */
  disconnectStatusCode?: number;
  /** `$disconnect` only. */
  disconnectReason?: string;
}

/**
 * The WebSocket proxy event as AWS sends it. `$connect` (and `$disconnect`) carry headers, and `$connect` the
 * query string, in the REST (v1) style: original header-name case, last value wins, `multiValue*` keeps all.
 * Note: like on AWS, `requestContext.messageId` is only present on MESSAGE events (the upstream type says
 * it is always a string).
 */
export interface WsEvent extends APIGatewayProxyWebsocketEventV2 {
  requestContext: WsRequestContext;
  headers?: Record<string, string>;
  multiValueHeaders?: Record<string, string[]>;
}

export interface WsRouteResult {
  statusCode?: number;
  body?: string;
  /** `$connect` only: e.g. `Sec-WebSocket-Protocol` to accept one of the client's subprotocols. */
  headers?: Record<string, boolean | number | string>;
}

export type WsInvoke = (event: WsEvent, context: Context) => Promise<WsRouteResult | undefined | void>;

export interface WsGatewayRoute {
  readonly invoke: WsInvoke;
  /** The handler's `body` is sent back to the caller (a route response). */
  readonly twoWay: boolean;
  readonly functionName?: string;
  /** Lambda timeout reported by the context; defaults to the integration timeout. */
  readonly timeoutMs?: number;
}

export interface WsGatewayOptions {
  readonly port: number;
  readonly host?: string;
  /** Keyed by route key: `$connect`, `$disconnect`, `$default` or an `action` value. */
  readonly routes: ReadonlyMap<string, WsGatewayRoute>;
  readonly idleTimeoutMs?: number;
  readonly maxConnectionMs?: number;
  readonly maxFrameBytes?: number;
  readonly stage?: string;
  /** API Gateway's integration timeout for WebSocket APIs (29 s). */
  readonly integrationTimeoutMs?: number;
  /**
   * Local only: at most this many `$connect` invocations run at once (default 16); the others wait their
   * turn within the integration timeout. On AWS each invocation has its own execution environment; here
   * all share one event loop and DynamoDB Local, and a reconnect storm admitted at once made every
   * `$connect` slow enough to exceed its function timeout (500s). Lambda's timeout counts from the
   * invocation's start, API Gateway's 29 s from the request: so do these.
   */
  readonly connectConcurrency?: number;
  /**
   * Local only: at most this many `$disconnect` invocations run at once (default 4), queued without a
   * deadline (every one runs). A storm's thousand disconnects then drain beside the reconnects instead of
   * taking the local cloud's whole capacity first; nothing waits for them (API Gateway calls `$disconnect`
   * on a best-effort basis, after the socket is gone).
   */
  readonly disconnectConcurrency?: number;
  /**
   * Local only: a `$connect` that cannot start within this wait (default 3 s) is answered 429 Too Many
   * Requests — API Gateway's answer past its throttling burst ("the target maximum number of concurrent
   * request submissions that API Gateway will fulfill before returning 429"). A storm beyond what one
   * process can serve is shed early and the clients back off, instead of every queued upgrade waiting
   * until its client gives up.
   */
  readonly connectQueueMs?: number;
  readonly apiId?: string;
  /** The fault plan's @connections answers, socket drops and restarts (infra/local/faults.ts). */
  readonly faults?: FaultInjector;
}

export interface WsGateway {
  /** `ws://host:port` — clients connect here (any path, e.g. `/local`, is accepted). */
  readonly url: string;
  /** Give this to `new ApiGatewayManagementApiClient({ endpoint })`. */
  readonly managementEndpoint: string;
  readonly port: number;
  connectionCount(): number;
  /** Resolves once the work under way has finished: frames, and every `$disconnect`, queued ones too. */
  settled(): Promise<void>;
  /** Every socket closed (1001 Going away), the port closed for `downMs`, then open again. */
  restart(downMs?: number): Promise<void>;
  close(): Promise<void>;
}

/** The @connections PostToConnection payload quota. */
export const MAX_POST_BYTES = 128 * 1024;

interface Connection {
  readonly id: string;
  readonly socket: WebSocket;
  readonly connectedAt: number;
  lastActiveAt: number;
  readonly sourceIp: string;
  readonly userAgent: string;
  readonly domainName: string;
  /** Frames of one connection are handled in arrival order. */
  queue: Promise<void>;
  open: boolean;
  /** Set when the gateway (or a protocol error) closes the socket: what $disconnect reports. */
  closeInfo?: { code: number; reason: string };
  idleTimer?: NodeJS.Timeout;
  lifetimeTimer?: NodeJS.Timeout;
  terminateTimer?: NodeJS.Timeout;
}

type Invocation =
  | { kind: 'result'; value: WsRouteResult | undefined }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout' };

const awsErrorFrame = (message: string, connectionId: string, requestId: string): string =>
  `{"message": ${JSON.stringify(message)}, "connectionId":${JSON.stringify(connectionId)}, "requestId":${JSON.stringify(requestId)}}`;

const asResult = (value: unknown): WsRouteResult | undefined =>
  typeof value === 'object' && value !== null ? (value as WsRouteResult) : undefined;

const v1Headers = (request: IncomingMessage) => {
  const headers: Record<string, string> = {};
  const multiValueHeaders: Record<string, string[]> = {};
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = raw[index] ?? '';
    const value = raw[index + 1] ?? '';
    headers[name] = value;
    const existing = multiValueHeaders[name];
    if (existing) existing.push(value);
    else multiValueHeaders[name] = [value];
  }
  return { headers, multiValueHeaders };
};

const v1Query = (rawQuery: string) => {
  const queryStringParameters: Record<string, string> = {};
  const multiValueQueryStringParameters: Record<string, string[]> = {};
  for (const [name, value] of new URLSearchParams(rawQuery)) {
    queryStringParameters[name] = value;
    const existing = multiValueQueryStringParameters[name];
    if (existing) existing.push(value);
    else multiValueQueryStringParameters[name] = [value];
  }
  return Object.keys(queryStringParameters).length > 0
    ? { queryStringParameters, multiValueQueryStringParameters }
    : {};
};

const headerValue = (headers: WsRouteResult['headers'], name: string): string | undefined => {
  if (!headers) return undefined;
  for (const [key, value] of Object.entries(headers)) if (key.toLowerCase() === name) return String(value);
  return undefined;
};

const rejectUpgrade = (socket: Duplex, statusCode: number, body: string): void => {
  if (socket.destroyed) return;
  const payload = Buffer.from(body);
  socket.end(
    `HTTP/1.1 ${statusCode} ${STATUS_CODES[statusCode] ?? 'Error'}\r\n` +
      'Connection: close\r\nContent-Type: application/json\r\n' +
      `Content-Length: ${payload.length}\r\n\r\n${payload.toString()}`,
  );
  socket.destroy();
};

const jsonReply = (res: ServerResponse, statusCode: number, body: unknown, errorType?: string): void => {
  const payload = body === undefined ? '' : JSON.stringify(body);
  res.writeHead(statusCode, {
    'content-type': 'application/json',
    'content-length': String(Buffer.byteLength(payload)),
    'x-amzn-requestid': apiGatewayId(),
    ...(errorType ? { 'x-amzn-errortype': errorType } : {}),
  });
  res.end(payload);
};

export const startWsGateway = async (options: WsGatewayOptions): Promise<WsGateway> => {
  const host = options.host ?? '127.0.0.1';
  const stage = options.stage ?? 'local';
  const idleTimeoutMs = options.idleTimeoutMs ?? 600_000;
  const maxConnectionMs = options.maxConnectionMs ?? 7_200_000;
  const maxFrameBytes = options.maxFrameBytes ?? 131_072;
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 29_000;
  const apiId = options.apiId ?? 'localws';
  const { routes } = options;

  const connections = new Map<string, Connection>();
  const pendingUpgrades = new Set<Duplex>();
  const inFlight = new Set<Promise<void>>();
  // $connect and $disconnect slots (WsGatewayOptions.connectConcurrency), one pool each: a release hands
  // the slot to the next in line. A waiter with a deadline leaves the line when it passes (undefined).
  const slots = (limit: number) => {
    const queue: ((release: () => void) => void)[] = [];
    let running = 0;
    const release = (): void => {
      const next = queue.shift();
      if (next) next(release);
      else running -= 1;
    };
    const acquireWithin = (waitMs: number): Promise<(() => void) | undefined> => {
      if (running < limit) {
        running += 1;
        return Promise.resolve(release);
      }
      return new Promise((resolve) => {
        const waiter = (handed: () => void) => {
          clearTimeout(timer);
          resolve(handed);
        };
        const timer =
          waitMs === Infinity
            ? undefined
            : setTimeout(() => {
                const index = queue.indexOf(waiter);
                if (index !== -1) queue.splice(index, 1);
                resolve(undefined);
              }, waitMs);
        queue.push(waiter);
      });
    };
    return {
      acquireWithin,
      acquire: async (): Promise<() => void> => {
        const handed = await acquireWithin(Infinity);
        if (!handed) throw new Error('an unbounded wait always gets its slot');
        return handed;
      },
    };
  };
  const connectSlot = slots(options.connectConcurrency ?? 16);
  const disconnectSlot = slots(options.disconnectConcurrency ?? 4);
  const connectQueueMs = options.connectQueueMs ?? 3_000;
  let closing = false;

  const track = (work: Promise<void>): void => {
    inFlight.add(work);
    void work.finally(() => inFlight.delete(work));
  };

  const invoke = async (
    routeKey: string,
    route: WsGatewayRoute,
    event: WsEvent,
    integrationBudgetMs = integrationTimeoutMs,
  ): Promise<Invocation> => {
    const context = createLambdaContext({
      functionName: route.functionName ?? `ws-${routeKey.replace(/[^a-zA-Z0-9]+/g, '-')}`,
      timeoutMs: route.timeoutMs ?? integrationTimeoutMs,
    });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<Invocation>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), integrationBudgetMs);
    });
    const run = (async (): Promise<Invocation> => {
      try {
        return { kind: 'result', value: asResult(await route.invoke(event, context)) };
      } catch (error) {
        return { kind: 'error', error };
      }
    })();
    try {
      const outcome = await Promise.race([run, timeout]);
      if (outcome.kind === 'error') console.error(`[ws-gateway] ${routeKey} failed:`, outcome.error);
      if (outcome.kind === 'timeout')
        console.error(`[ws-gateway] ${routeKey} exceeded the integration timeout`);
      return outcome;
    } finally {
      clearTimeout(timer);
    }
  };

  const baseContext = (
    routeKey: string,
    eventType: WsRequestContext['eventType'],
    connectionId: string,
    connectedAt: number,
    domainName: string,
    identity: WsRequestContext['identity'],
  ): WsRequestContext => {
    const now = new Date();
    const requestId = apiGatewayId();
    // AWS omits messageId outside MESSAGE events; the upstream type claims it is always present.
    const context: Omit<WsRequestContext, 'messageId'> = {
      routeKey,
      eventType,
      extendedRequestId: requestId,
      requestTime: clfTime(now),
      messageDirection: 'IN',
      stage,
      connectedAt,
      requestTimeEpoch: now.getTime(),
      identity,
      requestId,
      domainName,
      connectionId,
      apiId,
    };
    return context as WsRequestContext;
  };

  // ---- $disconnect -------------------------------------------------------------------------------------

  /** Called exactly once per accepted connection (guarded by `Connection.open` / the upgrade path). */
  const invokeDisconnect = (
    connectionId: string,
    connectedAt: number,
    domainName: string,
    identity: WsRequestContext['identity'],
    code: number,
    reason: string,
  ): Promise<void> => {
    const route = routes.get('$disconnect');
    if (!route) return Promise.resolve();
    const requestContext = baseContext(
      '$disconnect',
      'DISCONNECT',
      connectionId,
      connectedAt,
      domainName,
      identity,
    );
    requestContext.disconnectStatusCode = code;
    requestContext.disconnectReason = reason;
    const headers = { Host: domainName, 'x-api-key': '', 'X-Forwarded-For': '', 'x-restapi': '' };
    const event: WsEvent = {
      headers,
      multiValueHeaders: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, [value]])),
      requestContext,
      isBase64Encoded: false,
    };
    // No client waits for a $disconnect: however long it queued, it runs, timed from its start.
    return disconnectSlot.acquire().then(async (release) => {
      try {
        await invoke('$disconnect', route, event);
      } finally {
        release();
      }
    });
  };

  const closeConnection = (connection: Connection, code: number, reason: string): void => {
    if (!connection.open) return;
    connection.closeInfo ??= { code, reason };
    connection.socket.close(code, reason);
    // A client that never answers the close handshake is cut off.
    connection.terminateTimer ??= setTimeout(() => connection.socket.terminate(), 2_000);
  };

  const onClosed = (connection: Connection, code: number, reasonBuffer: Buffer): void => {
    if (!connection.open) return;
    connection.open = false;
    clearTimeout(connection.idleTimer);
    clearTimeout(connection.lifetimeTimer);
    clearTimeout(connection.terminateTimer);
    connections.delete(connection.id);
    const info = connection.closeInfo ?? { code, reason: reasonBuffer.toString('utf8') };
    // Messages already received are handled first; then $disconnect, exactly once.
    const work = connection.queue.then(() =>
      invokeDisconnect(
        connection.id,
        connection.connectedAt,
        connection.domainName,
        { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        info.code,
        info.reason,
      ),
    );
    connection.queue = work;
    track(work);
  };

  // ---- messages ----------------------------------------------------------------------------------------

  const selectRoute = (body: string, binary: boolean): string | undefined => {
    if (!binary) {
      try {
        const parsed: unknown = JSON.parse(body);
        if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) && 'action' in parsed) {
          const action = parsed.action;
          if (
            typeof action === 'string' &&
            action !== '$connect' &&
            action !== '$disconnect' &&
            routes.has(action)
          ) {
            return action;
          }
        }
      } catch {
        // not JSON: the $default route
      }
    }
    return routes.has('$default') ? '$default' : undefined;
  };

  const handleMessage = async (connection: Connection, data: RawData, binary: boolean): Promise<void> => {
    const buffer = Buffer.isBuffer(data)
      ? data
      : Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.from(data);
    const body = binary ? buffer.toString('base64') : buffer.toString('utf8');
    const routeKey = selectRoute(body, binary);
    const requestContext = baseContext(
      routeKey ?? '$default',
      'MESSAGE',
      connection.id,
      connection.connectedAt,
      connection.domainName,
      { sourceIp: connection.sourceIp },
    );
    requestContext.messageId = apiGatewayId();
    const reply = (text: string): void => {
      if (connection.open && connection.socket.readyState === connection.socket.OPEN)
        connection.socket.send(text);
    };
    const route = routeKey === undefined ? undefined : routes.get(routeKey);
    if (routeKey === undefined || route === undefined) {
      reply(awsErrorFrame('Forbidden', connection.id, requestContext.requestId));
      return;
    }
    const event: WsEvent = { requestContext, body, isBase64Encoded: binary };
    const outcome = await invoke(routeKey, route, event);
    if (outcome.kind === 'error')
      reply(awsErrorFrame('Internal server error', connection.id, requestContext.requestId));
    else if (outcome.kind === 'timeout')
      reply(awsErrorFrame('Endpoint request timed out', connection.id, requestContext.requestId));
    else if (route.twoWay && typeof outcome.value?.body === 'string') reply(outcome.value.body);
  };

  // ---- upgrade / $connect ------------------------------------------------------------------------------

  const chosenProtocols = new WeakMap<IncomingMessage, string>();
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: maxFrameBytes,
    clientTracking: false,
    perMessageDeflate: false,
    handleProtocols: (_protocols, request) => chosenProtocols.get(request) ?? false,
  });

  const onOpen = (
    socket: WebSocket,
    id: string,
    connectedAt: number,
    sourceIp: string,
    userAgent: string,
    domainName: string,
  ): void => {
    const connection: Connection = {
      id,
      socket,
      connectedAt,
      lastActiveAt: connectedAt,
      sourceIp,
      userAgent,
      domainName,
      queue: Promise.resolve(),
      open: true,
    };
    connections.set(id, connection);
    connection.idleTimer = setTimeout(() => closeConnection(connection, 1001, 'Going away'), idleTimeoutMs);
    connection.lifetimeTimer = setTimeout(
      () => closeConnection(connection, 1001, 'Going away'),
      maxConnectionMs,
    );
    socket.on('message', (data, isBinary) => {
      if (!connection.open) return;
      connection.lastActiveAt = Date.now();
      connection.idleTimer?.refresh();
      const work = connection.queue.then(() => handleMessage(connection, data, isBinary));
      connection.queue = work.catch((error: unknown) =>
        console.error('[ws-gateway] message handling failed:', error),
      );
      track(connection.queue);
    });
    socket.on('error', (error: Error & { code?: string }) => {
      if (error.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH')
        connection.closeInfo ??= { code: 1009, reason: 'Message too big' };
      else connection.closeInfo ??= { code: 1002, reason: error.message };
    });
    socket.on('close', (code, reason) => onClosed(connection, code, reason));
  };

  const handleUpgrade = async (request: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> => {
    if (closing) {
      rejectUpgrade(socket, 503, '{"message":"Service Unavailable"}');
      return;
    }
    if (
      (request.headers.upgrade ?? '').toLowerCase() !== 'websocket' ||
      request.headers['sec-websocket-key'] === undefined
    ) {
      rejectUpgrade(socket, 400, '{"message":"Bad Request"}');
      return;
    }
    pendingUpgrades.add(socket);
    socket.on('error', () => socket.destroy());
    const connectionId = apiGatewayId();
    const connectedAt = Date.now();
    const sourceIp = sourceIpOf(request);
    const userAgent = request.headers['user-agent'] ?? '';
    const domainName = request.headers.host ?? `${host}:${options.port}`;
    try {
      const route = routes.get('$connect');
      let result: WsRouteResult | undefined;
      if (route) {
        const rawUrl = request.url ?? '/';
        const queryIndex = rawUrl.indexOf('?');
        const { headers, multiValueHeaders } = v1Headers(request);
        const extra: Record<string, string> = {
          'X-Amzn-Trace-Id': `Root=1-${Math.floor(connectedAt / 1000).toString(16)}-${randomBytes(12).toString('hex')}`,
          'X-Forwarded-For': sourceIp,
          'X-Forwarded-Port': String(request.socket.localPort ?? options.port),
          'X-Forwarded-Proto': 'http',
        };
        for (const [name, value] of Object.entries(extra)) {
          headers[name] = value;
          multiValueHeaders[name] = [value];
        }
        const event: WsEvent = {
          headers,
          multiValueHeaders,
          ...v1Query(queryIndex === -1 ? '' : rawUrl.slice(queryIndex + 1)),
          requestContext: baseContext('$connect', 'CONNECT', connectionId, connectedAt, domainName, {
            sourceIp,
            userAgent,
          }),
          isBase64Encoded: false,
        };
        const queuedAt = Date.now();
        const release = await connectSlot.acquireWithin(connectQueueMs);
        if (!release) {
          // Past what the local cloud can start in time: throttled, as API Gateway answers beyond its
          // burst, so the client backs off instead of waiting out its open timeout.
          rejectUpgrade(socket, 429, JSON.stringify({ message: 'Too Many Requests' }));
          return;
        }
        let outcome: Invocation;
        try {
          // A client that gave up while waiting is not connected at all.
          if (socket.destroyed) return;
          const budgetMs = integrationTimeoutMs - (Date.now() - queuedAt);
          outcome = budgetMs > 0 ? await invoke('$connect', route, event, budgetMs) : { kind: 'timeout' };
        } finally {
          release();
        }
        if (outcome.kind !== 'result') {
          rejectUpgrade(
            socket,
            outcome.kind === 'timeout' ? 504 : 500,
            JSON.stringify({
              message: outcome.kind === 'timeout' ? 'Endpoint request timed out' : 'Internal server error',
            }),
          );
          return;
        }
        result = outcome.value;
        const statusCode = result?.statusCode ?? 200;
        if (statusCode < 200 || statusCode > 299) {
          rejectUpgrade(
            socket,
            statusCode,
            typeof result?.body === 'string' && result.body !== ''
              ? result.body
              : JSON.stringify({ message: STATUS_CODES[statusCode] ?? 'Error' }),
          );
          return;
        }
      }
      if (socket.destroyed || closing) {
        // $connect accepted, but the client (or the gateway) went away before the handshake completed.
        socket.destroy();
        await invokeDisconnect(
          connectionId,
          connectedAt,
          domainName,
          { sourceIp, userAgent },
          1006,
          'Connection lost',
        );
        return;
      }
      const protocol = headerValue(result?.headers, 'sec-websocket-protocol');
      if (protocol !== undefined) chosenProtocols.set(request, protocol);
      // A client gone during the handshake (ws then destroys the socket without calling back) was still
      // connected by its $connect: it gets its $disconnect, exactly once.
      let opened = false;
      socket.once('close', () => {
        if (!opened)
          track(
            invokeDisconnect(
              connectionId,
              connectedAt,
              domainName,
              { sourceIp, userAgent },
              1006,
              'Connection lost',
            ),
          );
      });
      wss.handleUpgrade(request, socket, head, (ws) => {
        opened = true;
        onOpen(ws, connectionId, connectedAt, sourceIp, userAgent, domainName);
      });
    } finally {
      pendingUpgrades.delete(socket);
    }
  };

  // ---- @connections management API --------------------------------------------------------------------

  const managementPath = /^(?:\/[^/@]+)?\/@connections\/([^/?]+)\/?$/;

  const readLimited = (request: IncomingMessage, limit: number): Promise<Buffer | null> =>
    new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      let tooLarge = false;
      request.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > limit) tooLarge = true;
        else chunks.push(chunk);
      });
      request.on('end', () => resolve(tooLarge ? null : Buffer.concat(chunks)));
      request.on('error', reject);
    });

  const handleManagement = async (request: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (request.url ?? '/').split('?')[0] ?? '/';
    const match = managementPath.exec(path);
    if (!match?.[1]) {
      request.resume();
      jsonReply(res, 404, { message: 'Not Found' });
      return;
    }
    let connectionId: string;
    try {
      connectionId = decodeURIComponent(match[1]);
    } catch {
      connectionId = match[1];
    }
    const method = (request.method ?? 'GET').toUpperCase();
    const connection = connections.get(connectionId);
    const live = connection?.open === true && connection.socket.readyState === connection.socket.OPEN;
    if (method === 'POST') {
      const data = await readLimited(request, MAX_POST_BYTES);
      if (data === null) {
        jsonReply(res, 413, { message: 'Message too long' }, 'PayloadTooLargeException');
        return;
      }
      if (!connection || !live) {
        jsonReply(res, 410, { message: null }, 'GoneException');
        return;
      }
      if (await postFault(connection, res)) return;
      // A text frame of the posted bytes, as API Gateway sends a post's data.
      connection.socket.send(data, { binary: false });
      jsonReply(res, 200, undefined);
      return;
    }
    request.resume();
    if (method !== 'GET' && method !== 'DELETE') {
      jsonReply(res, 404, { message: 'Not Found' });
      return;
    }
    if (!connection || !live) {
      jsonReply(res, 410, { message: null }, 'GoneException');
      return;
    }
    if (method === 'GET') {
      // restJson1 wire names (the SDK maps them to ConnectedAt / Identity / LastActiveAt).
      jsonReply(res, 200, {
        connectedAt: new Date(connection.connectedAt).toISOString(),
        identity: { sourceIp: connection.sourceIp, userAgent: connection.userAgent },
        lastActiveAt: new Date(connection.lastActiveAt).toISOString(),
      });
      return;
    }
    faults?.count('connections.deleted');
    closeConnection(connection, 1000, '');
    res.writeHead(204, { 'x-amzn-requestid': apiGatewayId() });
    res.end();
  };

  // ---- faults (infra/local/faults.ts) ------------------------------------------------------------------

  const faults = options.faults;
  const connectionFaults = faults?.plan.connections;
  /** Answers the post with the plan's fault, if one fires: true when it did (nothing is delivered). */
  const postFault = async (connection: Connection, res: ServerResponse): Promise<boolean> => {
    const fault = faults?.pick('connections', {
      gone: connectionFaults?.gone,
      limitExceeded: connectionFaults?.limitExceeded,
      internalError: connectionFaults?.internalError,
      hang: connectionFaults?.hang,
    });
    if (fault === undefined) return false;
    if (fault === 'gone') {
      dropConnection(connection);
      jsonReply(res, 410, { message: null }, 'GoneException');
    } else if (fault === 'limitExceeded') {
      jsonReply(res, 429, { message: 'Limit Exceeded' }, 'LimitExceededException');
    } else if (fault === 'internalError') {
      jsonReply(res, 500, { message: 'Internal server error' }, 'InternalServerErrorException');
    } else {
      // No answer: the caller's own timeout ends it, or the gateway cuts it after hangMs.
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, connectionFaults?.hangMs ?? 10_000);
        res.once('close', () => {
          clearTimeout(timer);
          resolve();
        });
      });
      res.destroy();
    }
    return true;
  };

  /** The connection is lost (no close handshake): 1006, then $disconnect. */
  const dropConnection = (connection: Connection): void => {
    if (!connection.open) return;
    connection.closeInfo ??= { code: 1006, reason: 'Connection lost' };
    connection.socket.terminate();
  };

  let restarting: Promise<void> | undefined;
  const restart = (downMs = 0): Promise<void> => {
    restarting ??= (async () => {
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of pendingUpgrades) socket.destroy();
      for (const connection of connections.values()) closeConnection(connection, 1001, 'Going away');
      server.closeAllConnections();
      await Promise.race([serverClosed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      await new Promise((resolve) => setTimeout(resolve, downMs));
      if (!closing) await listen(server, port, host);
    })().finally(() => {
      restarting = undefined;
    });
    return restarting;
  };

  const faultTimers: NodeJS.Timeout[] = [];
  const startFaults = (): void => {
    const socketFaults = faults?.plan.sockets;
    if (!faults || !socketFaults) return;
    const dropsPerSecond = socketFaults.dropsPerSecond ?? 0;
    if (dropsPerSecond > 0) {
      const tickMs = 100;
      faultTimers.push(
        setInterval(() => {
          if (connections.size === 0 || faults.random('sockets.drop') >= (dropsPerSecond * tickMs) / 1000)
            return;
          const all = [...connections.values()];
          const victim = all[Math.floor(faults.random('sockets.victim') * all.length)];
          if (victim) {
            faults.count('sockets.drop');
            dropConnection(victim);
          }
        }, tickMs),
      );
    }
    if (socketFaults.restartEveryMs) {
      faultTimers.push(
        setInterval(() => {
          if (closing || restarting) return;
          faults.count('sockets.restart');
          restart(socketFaults.downMs ?? 0).catch((error: unknown) =>
            console.error('[ws-gateway] restart failed:', error),
          );
        }, socketFaults.restartEveryMs),
      );
    }
    for (const timer of faultTimers) timer.unref();
  };

  const server = createServer((request, res) => {
    handleManagement(request, res).catch((error: unknown) => {
      console.error('[ws-gateway] management API error:', error);
      if (!res.headersSent)
        jsonReply(res, 500, { message: 'Internal server error' }, 'InternalServerErrorException');
      else res.destroy();
    });
  });
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    track(
      handleUpgrade(request, socket, head).catch((error: unknown) => {
        console.error('[ws-gateway] upgrade failed:', error);
        rejectUpgrade(socket, 500, '{"message":"Internal server error"}');
      }),
    );
  });

  const port = await listen(server, options.port, host);
  startFaults();

  return {
    url: `ws://${host}:${port}`,
    managementEndpoint: `http://${host}:${port}`,
    port,
    connectionCount: () => connections.size,
    restart,
    settled: async () => {
      while (inFlight.size > 0) await Promise.allSettled([...inFlight]);
    },
    close: async () => {
      closing = true;
      for (const timer of faultTimers) clearInterval(timer);
      await restarting;
      const serverClosed = new Promise<void>((resolve) => server.close(() => resolve()));
      for (const socket of pendingUpgrades) socket.destroy();
      for (const connection of connections.values()) closeConnection(connection, 1001, 'Going away');
      // Wait for the sockets to close and every $disconnect to finish (bounded).
      const deadline = Date.now() + 5_000;
      while ((connections.size > 0 || inFlight.size > 0) && Date.now() < deadline) {
        // Always yield to a timer: socket close events are macrotasks.
        const tick = new Promise((resolve) => setTimeout(resolve, 20));
        await (inFlight.size > 0 ? Promise.race([Promise.allSettled([...inFlight]), tick]) : tick);
      }
      if (connections.size > 0) {
        for (const connection of connections.values()) connection.socket.terminate();
        await new Promise((resolve) => setTimeout(resolve, 20));
        await Promise.race([
          Promise.allSettled([...inFlight]),
          new Promise((resolve) => setTimeout(resolve, 1_000)),
        ]);
      }
      server.closeAllConnections();
      wss.close();
      await serverClosed;
    },
  };
};
