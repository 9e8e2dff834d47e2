/**
 * WebSocket middlewares in middy's style (the @middy/ws-* packages are not available here):
 *  - wsFrame(): parses the JSON body against the client-frame union and the route's action;
 *  - wsIdentity(): resolves the connection's identity, cached for the connection's lifetime;
 *  - wsErrors(): turns any failure into an `error` envelope sent back on the socket.
 */
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy, { type MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyWebsocketEventV2, Context } from 'aws-lambda';
import { errorEnvelope } from '../domain/envelopes.ts';
import { toErrorResponse, ValidationError } from '../domain/errors.ts';
import type { Identity } from '../domain/identity.ts';
import { type ClientFrame, clientFrame, type Envelope, type FrameOf, issuesOf } from '../domain/schemas.ts';
import { logger, realtime } from '../runtime.ts';

export type WsEvent = APIGatewayProxyWebsocketEventV2;
export interface WsResult {
  statusCode: number;
  body?: string;
}
export interface WsRequestContext<A extends ClientFrame['action']> {
  readonly connectionId: string;
  readonly frame: FrameOf<A>;
  readonly identity: Identity;
}

/** The Lambda context, extended by the middlewares below. */
export type WsContext = Context & { frame?: ClientFrame; caller?: Identity; requestId?: string };
export type WsMiddleware = MiddlewareObj<WsEvent, WsResult, Error, WsContext>;

export const reply = (envelope: Envelope): WsResult => ({ statusCode: 200, body: JSON.stringify(envelope) });

const requestIdOf = (body: string | undefined): string | undefined => {
  try {
    const value: unknown = JSON.parse(body ?? '');
    const requestId = (value as { requestId?: unknown })?.requestId;
    return typeof requestId === 'string' && requestId.length <= 128 ? requestId : undefined;
  } catch {
    return undefined;
  }
};

export const wsFrame = (action?: ClientFrame['action']): WsMiddleware => ({
  before: async (request) => {
    request.context.requestId = requestIdOf(request.event.body);
    let value: unknown;
    try {
      value = JSON.parse(request.event.body ?? '');
    } catch {
      throw new ValidationError('frames must be JSON objects like {"action":"ping"}');
    }
    const parsed = clientFrame.safeParse(value);
    if (!parsed.success) throw new ValidationError('invalid frame', issuesOf(parsed.error));
    if (action && parsed.data.action !== action) throw new ValidationError(`expected action ${action}`);
    request.context.frame = parsed.data;
  },
});

/** Identities never change during a connection's life, so a warm container keeps them. */
const identities = new Map<string, Identity>();
export const wsIdentity = (): WsMiddleware => ({
  before: async (request) => {
    const { connectionId } = request.event.requestContext;
    let identity = identities.get(connectionId);
    if (!identity) {
      identity = await realtime.identityOf(connectionId);
      if (identities.size >= 10_000) identities.clear();
      identities.set(connectionId, identity);
    }
    request.context.caller = identity;
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

/** The stack every frame route shares: logging context, errors → `error` envelope, frame parsing. */
export const wsFrameStack = (action?: ClientFrame['action']) =>
  middy<WsEvent, WsResult, Error, WsContext>()
    .use(injectLambdaContext(logger, { resetKeys: true }) as WsMiddleware)
    .use(wsErrors())
    .use(wsFrame(action));

/** A route handler for one client action: parse the frame → identify the connection → domain → reply. */
export const wsAction = <A extends ClientFrame['action']>(
  action: A,
  handler: (request: WsRequestContext<A>) => Promise<Envelope>,
) =>
  wsFrameStack(action)
    .use(wsIdentity())
    .handler(async (event, context) => {
      const { frame, caller: identity } = context;
      if (!frame || !identity) throw new Error('wsFrame and wsIdentity must run first');
      const connectionId = event.requestContext.connectionId;
      return reply(await handler({ connectionId, frame: frame as FrameOf<A>, identity }));
    });
