/**
 * An emulated API Gateway HTTP API (payload format 2.0) in front of plain handler functions, so the same
 * Lambda handler code runs unchanged locally: it builds the exact v2.0 event, maps the handler's result the
 * way API Gateway does, answers CORS preflights itself and applies the gateway's own error responses
 * (404 no route, 413 body too large, 500 handler error, 503 integration timeout).
 *
 * CORS as AWS documents it ("Configure CORS for HTTP APIs"): "If you configure CORS for an API, API
 * Gateway automatically sends a response to preflight OPTIONS requests, even if there isn't an OPTIONS
 * route configured for your API. For a CORS request, API Gateway adds the configured CORS headers to the
 * response from an integration", and "ignores CORS headers returned from your backend integration". "To
 * return CORS headers, your request must contain an origin header. For the OPTIONS method, your request
 * must contain an origin header and an Access-Control-Request-Method header."
 */
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyResultV2,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';
import { listen } from './free-port.ts';
import { createLambdaContext, LOCAL_ACCOUNT_ID } from './lambda-context.ts';

export type HttpInvoke = (
  event: APIGatewayProxyEventV2,
  context: Context,
) => Promise<APIGatewayProxyResultV2>;

export interface HttpGatewayRoute {
  /** `GET`, `POST`, … or `ANY`. */
  readonly method: string;
  /** API Gateway route path: `/v1/chats/{chatId}`, `/files/{proxy+}`, or `$default` for the catch-all route. */
  readonly path: string;
  readonly invoke: HttpInvoke;
  /** Name given to the fake Lambda context; defaults to a name derived from the route. */
  readonly functionName?: string;
  /** The Lambda timeout (context countdown; a handler still running after it is answered with 500). */
  readonly timeoutMs?: number;
  /**
   * This route's CORS policy instead of the API's (its responses and its preflights). Only for
   * local-only routes such as the development token issuer: a deployed HTTP API has one policy.
   */
  readonly cors?: HttpCorsConfig;
}

export interface HttpCorsConfig {
  readonly allowOrigins: readonly string[];
  readonly allowHeaders: readonly string[];
  readonly allowMethods: readonly string[];
  readonly maxAgeSeconds: number;
  readonly exposeHeaders?: readonly string[];
  readonly allowCredentials?: boolean;
}

export interface HttpGatewayOptions {
  readonly port: number;
  readonly host?: string;
  readonly routes: readonly HttpGatewayRoute[];
  readonly cors: HttpCorsConfig;
  /** API Gateway's integration timeout (30 s max on HTTP APIs); the caller then gets 503. */
  readonly integrationTimeoutMs?: number;
  /** Reported in requestContext.apiId. */
  readonly apiId?: string;
  /**
   * Local only: these routes (route keys) are answered 429 Too Many Requests, as API Gateway answers
   * requests over its throttle, while `overloaded()` says the local cloud cannot take more
   * (infra/local/load-gauge.ts) — the ticket route, where every new WebSocket connection starts.
   */
  readonly shed?: { readonly routeKeys: readonly string[]; readonly overloaded: () => boolean };
}

export interface HttpGateway {
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/** API Gateway's request payload quota for HTTP APIs. */
export const MAX_HTTP_BODY_BYTES = 10 * 1024 * 1024;

interface CompiledRoute {
  readonly route: HttpGatewayRoute;
  readonly routeKey: string;
  readonly method: string;
  readonly segments: readonly string[];
  readonly catchAll: boolean;
}

interface RouteMatch {
  readonly compiled: CompiledRoute;
  readonly pathParameters: Record<string, string> | undefined;
}

const compile = (route: HttpGatewayRoute): CompiledRoute => {
  const method = route.method.toUpperCase();
  if (route.path === '$default') {
    return { route, routeKey: '$default', method: 'ANY', segments: [], catchAll: true };
  }
  return {
    route,
    routeKey: `${method} ${route.path}`,
    method,
    segments: route.path.split('/').slice(1),
    catchAll: false,
  };
};

const decode = (value: string): string => {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
};

const matchPath = (
  compiled: CompiledRoute,
  pathSegments: readonly string[],
): Record<string, string> | null => {
  const params: Record<string, string> = {};
  for (let index = 0; index < compiled.segments.length; index++) {
    const pattern = compiled.segments[index] ?? '';
    const greedy = /^\{(.+)\+\}$/.exec(pattern);
    if (greedy?.[1] !== undefined) {
      const rest = pathSegments.slice(index);
      if (rest.length === 0 || rest.join('/') === '') return null;
      params[greedy[1]] = decode(rest.join('/'));
      return params;
    }
    const segment = pathSegments[index];
    if (segment === undefined) return null;
    const param = /^\{(.+)\}$/.exec(pattern);
    if (param?.[1] !== undefined) {
      if (segment === '') return null;
      params[param[1]] = decode(segment);
    } else if (segment !== pattern) {
      return null;
    }
  }
  return pathSegments.length === compiled.segments.length ? params : null;
};

/** API Gateway picks the most specific route: literal segments beat `{param}`, which beats `{proxy+}`. */
const specificity = (compiled: CompiledRoute): number[] =>
  compiled.catchAll
    ? [-1]
    : compiled.segments.map((segment) => (segment.endsWith('+}') ? 0 : segment.startsWith('{') ? 1 : 2));

const compareSpecificity = (a: CompiledRoute, b: CompiledRoute): number => {
  const sa = specificity(a);
  const sb = specificity(b);
  for (let index = 0; index < Math.max(sa.length, sb.length); index++) {
    const diff = (sb[index] ?? -1) - (sa[index] ?? -1);
    if (diff !== 0) return diff;
  }
  // A specific method beats ANY.
  return (a.method === 'ANY' ? 1 : 0) - (b.method === 'ANY' ? 1 : 0);
};

const findRoute = (
  routes: readonly CompiledRoute[],
  method: string,
  rawPath: string,
): RouteMatch | undefined => {
  const pathSegments = rawPath.split('/').slice(1);
  for (const compiled of routes) {
    if (compiled.method !== 'ANY' && compiled.method !== method) continue;
    if (compiled.catchAll) return { compiled, pathParameters: undefined };
    const params = matchPath(compiled, pathSegments);
    if (params !== null) {
      return { compiled, pathParameters: Object.keys(params).length > 0 ? params : undefined };
    }
  }
  return undefined;
};

const TEXT_CONTENT_TYPES = [
  /^text\//,
  /^application\/json\b/,
  /^application\/[\w.+-]+\+json\b/,
  /^application\/javascript\b/,
  /^application\/xml\b/,
  /^application\/[\w.+-]+\+xml\b/,
];

/** HTTP APIs pass text bodies as strings and everything else (including form posts) base64-encoded. */
const isTextContentType = (contentType: string | undefined): boolean =>
  contentType !== undefined && TEXT_CONTENT_TYPES.some((pattern) => pattern.test(contentType.toLowerCase()));

/** Random bytes for ids, drawn 11 at a time from a pool refilled 100 ids at once (one call per 100). */
let idPool = Buffer.alloc(0);
let idOffset = 0;
/** An API Gateway request id: 11 random bytes, base64 (e.g. `JKJaXmPLvHcESHA=`). */
export const apiGatewayId = (): string => {
  if (idOffset + 11 > idPool.length) {
    idPool = randomBytes(1100);
    idOffset = 0;
  }
  idOffset += 11;
  return idPool.toString('base64', idOffset - 11, idOffset);
};

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const pad = (value: number): string => String(value).padStart(2, '0');
/** The CLF-style time API Gateway puts in requestContext: `12/Mar/2020:19:03:58 +0000`. */
export const clfTime = (date: Date): string =>
  `${pad(date.getUTCDate())}/${MONTHS[date.getUTCMonth()]}/${date.getUTCFullYear()}:${pad(date.getUTCHours())}:` +
  `${pad(date.getUTCMinutes())}:${pad(date.getUTCSeconds())} +0000`;

export const sourceIpOf = (request: IncomingMessage): string =>
  (request.socket.remoteAddress ?? '127.0.0.1').replace(/^::ffff:/, '');

/** Header names lower-cased, repeated headers comma-joined, as in the v2.0 payload (cookies go to `cookies`). */
const collectHeaders = (request: IncomingMessage): { headers: Record<string, string>; cookies: string[] } => {
  const headers: Record<string, string> = {};
  const cookies: string[] = [];
  const raw = request.rawHeaders;
  for (let index = 0; index + 1 < raw.length; index += 2) {
    const name = (raw[index] ?? '').toLowerCase();
    const value = raw[index + 1] ?? '';
    if (name === 'cookie') {
      for (const cookie of value.split(';')) {
        const trimmed = cookie.trim();
        if (trimmed !== '') cookies.push(trimmed);
      }
      continue;
    }
    headers[name] = headers[name] === undefined ? value : `${headers[name]},${value}`;
  }
  return { headers, cookies };
};

const collectQuery = (rawQueryString: string): Record<string, string> | undefined => {
  if (rawQueryString === '') return undefined;
  const query: Record<string, string> = {};
  for (const [name, value] of new URLSearchParams(rawQueryString)) {
    query[name] = query[name] === undefined ? value : `${query[name]},${value}`;
  }
  return Object.keys(query).length > 0 ? query : undefined;
};

class BodyTooLargeError extends Error {}

/**
 * Reads the body up to `limit` bytes. A declared oversize length is refused at once; an oversize chunked
 * body is drained (discarded) so the client can read the 413 instead of a connection reset.
 */
const readBody = (request: IncomingMessage, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(request.headers['content-length'] ?? '0');
    if (declared > limit) {
      reject(new BodyTooLargeError());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (action: () => void): void => {
      if (settled) return;
      settled = true;
      action();
    };
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else if (size > limit * 4) {
        request.destroy();
        settle(() => reject(new BodyTooLargeError()));
      }
    });
    request.on('end', () =>
      settle(() => (size > limit ? reject(new BodyTooLargeError()) : resolve(Buffer.concat(chunks)))),
    );
    request.on('error', (error) => settle(() => reject(error)));
  });

interface GatewayResponse {
  statusCode: number;
  headers: Record<string, string>;
  cookies: string[];
  body: Buffer;
}

const jsonMessage = (statusCode: number, message: string): GatewayResponse => ({
  statusCode,
  headers: { 'content-type': 'application/json' },
  cookies: [],
  body: Buffer.from(JSON.stringify({ message })),
});

const isStructured = (result: unknown): result is APIGatewayProxyStructuredResultV2 =>
  typeof result === 'object' && result !== null && 'statusCode' in result;

/** The v2.0 response mapping: a result with `statusCode` is used as is; anything else becomes a 200 JSON body. */
const mapResult = (result: APIGatewayProxyResultV2): GatewayResponse => {
  if (!isStructured(result)) {
    const body = typeof result === 'string' ? result : (JSON.stringify(result) ?? '');
    return {
      statusCode: 200,
      headers: { 'content-type': 'application/json' },
      cookies: [],
      body: Buffer.from(body),
    };
  }
  const statusCode = result.statusCode;
  if (
    typeof statusCode !== 'number' ||
    !Number.isInteger(statusCode) ||
    statusCode < 100 ||
    statusCode > 599
  ) {
    return jsonMessage(500, 'Internal Server Error');
  }
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(result.headers ?? {})) {
    // Lambda returns the result as JSON, so a header whose value is undefined never reaches API Gateway.
    if (value === undefined) continue;
    headers[name.toLowerCase()] = String(value);
  }
  const rawBody = result.body ?? '';
  const body = result.isBase64Encoded ? Buffer.from(rawBody, 'base64') : Buffer.from(rawBody);
  return { statusCode, headers, cookies: [...(result.cookies ?? [])], body };
};

const originAllowed = (cors: HttpCorsConfig, origin: string | undefined): origin is string =>
  origin !== undefined && (cors.allowOrigins.includes('*') || cors.allowOrigins.includes(origin));

const allowOriginValue = (cors: HttpCorsConfig, origin: string): string =>
  cors.allowOrigins.includes('*') && !cors.allowCredentials ? '*' : origin;

/** API Gateway ignores CORS headers returned by the integration and sets its own. */
const applyCors = (response: GatewayResponse, cors: HttpCorsConfig, origin: string | undefined): void => {
  for (const name of Object.keys(response.headers)) {
    if (name.startsWith('access-control-')) delete response.headers[name];
  }
  if (!originAllowed(cors, origin)) return;
  response.headers['access-control-allow-origin'] = allowOriginValue(cors, origin);
  const vary = response.headers.vary;
  if (vary === undefined) response.headers.vary = 'Origin';
  else if (!/\borigin\b/i.test(vary)) response.headers.vary = `${vary}, Origin`;
  if (cors.allowCredentials) response.headers['access-control-allow-credentials'] = 'true';
  if (cors.exposeHeaders && cors.exposeHeaders.length > 0) {
    response.headers['access-control-expose-headers'] = cors.exposeHeaders.join(',');
  }
};

const preflight = (cors: HttpCorsConfig, request: IncomingMessage): GatewayResponse => {
  const response: GatewayResponse = { statusCode: 204, headers: {}, cookies: [], body: Buffer.alloc(0) };
  const origin = request.headers.origin;
  if (!originAllowed(cors, origin) || request.headers['access-control-request-method'] === undefined)
    return response;
  const requestedHeaders = request.headers['access-control-request-headers'];
  response.headers['access-control-allow-origin'] = allowOriginValue(cors, origin);
  response.headers.vary = 'Origin';
  response.headers['access-control-allow-methods'] = cors.allowMethods.join(',');
  response.headers['access-control-allow-headers'] =
    cors.allowHeaders.includes('*') && requestedHeaders !== undefined
      ? requestedHeaders
      : cors.allowHeaders.join(',');
  response.headers['access-control-max-age'] = String(cors.maxAgeSeconds);
  if (cors.allowCredentials) response.headers['access-control-allow-credentials'] = 'true';
  return response;
};

type Outcome =
  | { kind: 'result'; value: APIGatewayProxyResultV2 }
  | { kind: 'error'; error: unknown }
  | { kind: 'timeout'; status: 500 | 503 };

const invokeWithTimeouts = async (
  invoke: () => Promise<APIGatewayProxyResultV2>,
  functionTimeoutMs: number,
  integrationTimeoutMs: number,
): Promise<Outcome> => {
  const timers: NodeJS.Timeout[] = [];
  const timeout = new Promise<Outcome>((resolve) => {
    // A Lambda that runs out of time is a function error (500); the gateway giving up first is a 503.
    if (functionTimeoutMs < integrationTimeoutMs) {
      timers.push(setTimeout(() => resolve({ kind: 'timeout', status: 500 }), functionTimeoutMs));
    }
    timers.push(setTimeout(() => resolve({ kind: 'timeout', status: 503 }), integrationTimeoutMs));
  });
  const run = (async (): Promise<Outcome> => {
    try {
      return { kind: 'result', value: await invoke() };
    } catch (error) {
      return { kind: 'error', error };
    }
  })();
  try {
    return await Promise.race([run, timeout]);
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
};

const send = (res: ServerResponse, response: GatewayResponse, method: string): void => {
  const headers: Record<string, string | string[]> = { ...response.headers };
  if (response.cookies.length > 0) headers['set-cookie'] = response.cookies;
  headers['content-length'] = String(response.body.length);
  res.writeHead(response.statusCode, headers);
  res.end(method === 'HEAD' ? undefined : response.body);
};

export const startHttpGateway = async (options: HttpGatewayOptions): Promise<HttpGateway> => {
  const host = options.host ?? '127.0.0.1';
  const integrationTimeoutMs = options.integrationTimeoutMs ?? 30_000;
  const apiId = options.apiId ?? 'localhttp';
  const routes = options.routes.map(compile).sort(compareSpecificity);
  const { cors } = options;
  const shedRoutes = new Set(options.shed?.routeKeys ?? []);

  const handle = async (request: IncomingMessage, res: ServerResponse): Promise<void> => {
    const start = new Date();
    const requestId = apiGatewayId();
    const method = (request.method ?? 'GET').toUpperCase();
    const rawUrl = request.url ?? '/';
    const queryIndex = rawUrl.indexOf('?');
    const rawPath = queryIndex === -1 ? rawUrl : rawUrl.slice(0, queryIndex);
    const rawQueryString = queryIndex === -1 ? '' : rawUrl.slice(queryIndex + 1);
    const origin = request.headers.origin;

    const match = findRoute(routes, method, rawPath);
    const finish = (response: GatewayResponse): void => {
      applyCors(response, match?.compiled.route.cors ?? cors, origin);
      response.headers['apigw-requestid'] = requestId;
      send(res, response, method);
    };

    if (method === 'OPTIONS' && (match === undefined || match.compiled.method === 'ANY')) {
      // With CORS configured, the gateway answers every preflight itself (with the policy of the route
      // the preflight asks about, when that route has its own).
      const requested = request.headers['access-control-request-method'];
      const target = requested ? findRoute(routes, requested.toUpperCase(), rawPath) : undefined;
      const response = preflight(target?.compiled.route.cors ?? cors, request);
      response.headers['apigw-requestid'] = requestId;
      send(res, response, method);
      request.resume();
      return;
    }
    if (match === undefined) {
      request.resume();
      finish(jsonMessage(404, 'Not Found'));
      return;
    }
    if (shedRoutes.has(match.compiled.routeKey) && options.shed?.overloaded()) {
      request.resume();
      finish(jsonMessage(429, 'Too Many Requests'));
      return;
    }

    let body: Buffer;
    try {
      body = await readBody(request, MAX_HTTP_BODY_BYTES);
    } catch (error) {
      if (error instanceof BodyTooLargeError) {
        res.setHeader('connection', 'close');
        finish(jsonMessage(413, 'Request Entity Too Large'));
        return;
      }
      throw error;
    }

    const { headers, cookies } = collectHeaders(request);
    const sourceIp = sourceIpOf(request);
    headers['x-forwarded-for'] =
      headers['x-forwarded-for'] === undefined ? sourceIp : `${headers['x-forwarded-for']}, ${sourceIp}`;
    headers['x-forwarded-port'] = String(request.socket.localPort ?? options.port);
    headers['x-forwarded-proto'] = 'http';
    headers['x-amzn-trace-id'] ??=
      `Root=1-${Math.floor(start.getTime() / 1000).toString(16)}-${randomBytes(12).toString('hex')}`;
    const domainName = headers.host ?? `${host}:${options.port}`;
    const contentType = headers['content-type'];
    const text = isTextContentType(contentType);
    const queryStringParameters = collectQuery(rawQueryString);

    const event: APIGatewayProxyEventV2 = {
      version: '2.0',
      routeKey: match.compiled.routeKey,
      rawPath,
      rawQueryString,
      ...(cookies.length > 0 ? { cookies } : {}),
      headers,
      ...(queryStringParameters !== undefined ? { queryStringParameters } : {}),
      requestContext: {
        accountId: LOCAL_ACCOUNT_ID,
        apiId,
        domainName,
        domainPrefix: domainName.split('.')[0]?.split(':')[0] ?? domainName,
        http: {
          method,
          path: rawPath,
          protocol: `HTTP/${request.httpVersion}`,
          sourceIp,
          userAgent: headers['user-agent'] ?? '',
        },
        requestId,
        routeKey: match.compiled.routeKey,
        stage: '$default',
        time: clfTime(start),
        timeEpoch: start.getTime(),
      },
      ...(match.pathParameters !== undefined ? { pathParameters: match.pathParameters } : {}),
      ...(body.length > 0 ? { body: text ? body.toString('utf8') : body.toString('base64') } : {}),
      isBase64Encoded: body.length > 0 && !text,
    };

    const route = match.compiled.route;
    const functionTimeoutMs = route.timeoutMs ?? integrationTimeoutMs;
    const context = createLambdaContext({
      functionName: route.functionName ?? `http-${match.compiled.routeKey.replace(/[^a-zA-Z0-9]+/g, '-')}`,
      timeoutMs: functionTimeoutMs,
    });
    const outcome = await invokeWithTimeouts(
      () => route.invoke(event, context),
      functionTimeoutMs,
      integrationTimeoutMs,
    );
    if (outcome.kind === 'result') {
      finish(mapResult(outcome.value));
    } else if (outcome.kind === 'error') {
      console.error(`[http-gateway] ${match.compiled.routeKey} failed:`, outcome.error);
      finish(jsonMessage(500, 'Internal Server Error'));
    } else if (outcome.status === 503) {
      console.error(`[http-gateway] ${match.compiled.routeKey} exceeded the integration timeout`);
      finish(jsonMessage(503, 'Service Unavailable'));
    } else {
      console.error(`[http-gateway] ${match.compiled.routeKey} exceeded its function timeout`);
      finish(jsonMessage(500, 'Internal Server Error'));
    }
  };

  const server = createServer((request, res) => {
    handle(request, res).catch((error: unknown) => {
      console.error('[http-gateway] unexpected error:', error);
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: 'Internal Server Error' }));
      } else {
        res.destroy();
      }
    });
  });
  server.requestTimeout = 0;

  const port = await listen(server, options.port, host);

  return {
    url: `http://${host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
};
