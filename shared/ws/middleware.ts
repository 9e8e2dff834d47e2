/**
 * WebSocket middlewares in middy's style (the @middy/ws-* packages are not available here):
 *  - wsStack(): the base of every WebSocket handler, as on HTTP: logging context and Powertools metrics
 *    with the cold-start metric;
 *  - wsFrame(): parses the JSON body against the client-frame union and the route's action;
 *  - wsErrors(): turns any failure into an `error` envelope sent back on the socket.
 * The connection's identity (a table read) is added by shared/ws/action.ts, so `ping` loads no store.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import { logMetrics } from '@aws-lambda-powertools/metrics/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { errorEnvelope } from '../domain/envelopes.ts';
import { toErrorResponse, ValidationError } from '../domain/errors.ts';
import type { Identity } from '../domain/identity.ts';
import type { ConnectionRecord } from '../domain/ports.ts';
import { parseBoundedJson } from '../domain/json-bounds.ts';
import { type ClientFrame, clientFrame, type Envelope, issuesOf } from '../domain/schemas.ts';
import { logger } from '../runtime/logger.ts';
import { metrics } from '../runtime/metrics.ts';

export type WsEvent = APIGatewayProxyWebsocketEventV2;
export interface WsResult {
  statusCode: number;
  body?: string;
}

/** The Lambda context, extended by the middlewares below. */
export type WsContext = Context & {
  frame?: ClientFrame;
  caller?: Identity;
  connection?: ConnectionRecord;
  requestId?: string;
};
export type WsMiddleware = MiddlewareObj<WsEvent, WsResult, Error, WsContext>;

export const reply = (envelope: Envelope): WsResult => ({ statusCode: 200, body: JSON.stringify(envelope) });

/** The frame's `requestId` when it is a string of at most 128 characters. */
const requestIdIn = (value: unknown): string | undefined => {
  const requestId = (value as { requestId?: unknown } | null)?.requestId;
  return typeof requestId === 'string' && requestId.length <= 128 ? requestId : undefined;
};

const MALFORMED_FRAME = 'frames must be JSON objects like {"action":"ping"}';

/** The frame's JSON, refused (400) when too long, too deep (shared/domain/json-bounds.ts) or malformed. */
const frameValue = (body: string | undefined): unknown => parseBoundedJson(body ?? '', MALFORMED_FRAME);

/** The `requestId` of a frame that failed, when the frame is JSON within bounds. */
const requestIdOf = (body: string | undefined): string | undefined => {
  try {
    return requestIdIn(frameValue(body));
  } catch {
    return undefined;
  }
};

export const wsFrame = (action?: ClientFrame['action']): WsMiddleware => ({
  before: async (request) => {
    const value = frameValue(request.event.body);
    request.context.requestId = requestIdIn(value);
    const parsed = clientFrame.safeParse(value);
    if (!parsed.success) throw new ValidationError('invalid frame', issuesOf(parsed.error));
    if (action && parsed.data.action !== action) throw new ValidationError(`expected action ${action}`);
    request.context.frame = parsed.data;
  },
});

export const wsErrors = (): WsMiddleware => ({
  onError: async (request) => {
    const { status, body } = toErrorResponse(request.error);
    if (status >= 500) logger.error('frame failed', { error: request.error });
    request.response = reply(
      errorEnvelope(body.error, request.context.requestId ?? requestIdOf(request.event.body)),
    );
  },
});

/**
 * The base of the WebSocket handlers ($connect included; $disconnect keeps the logging context only,
 * for its keep-alive budget): the logging context and the metrics (`ColdStart` on a cold start, and
 * what the handler records, published after each invocation).
 */
export const wsStack = <E extends WsEvent = WsEvent>() =>
  middy<E, WsResult, Error, WsContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }) as MiddlewareObj<E, WsResult, Error, WsContext>)
    .use(
      logMetrics(metrics, { captureColdStartMetric: true }) as MiddlewareObj<E, WsResult, Error, WsContext>,
    );

/** The stack every frame route shares: the base stack, errors → `error` envelope, frame parsing. */
export const wsFrameStack = (action?: ClientFrame['action']) =>
  wsStack().use(wsErrors()).use(wsFrame(action));
