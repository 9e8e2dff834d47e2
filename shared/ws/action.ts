/**
 * The stack of a client action that needs its caller: the frame stack (shared/ws/middleware.ts) plus
 * wsIdentity(), which resolves the connection's identity from its connection item, cached for the
 * connection's lifetime.
 */
import type { Identity } from '../domain/identity.ts';
import { connectionIdentity } from '../domain/connections.ts';
import type { ClientFrame, Envelope, FrameOf } from '../domain/schemas.ts';
import { connectionStore } from '../runtime/stores.ts';
import { reply, type WsMiddleware, wsFrameStack } from './middleware.ts';

export interface WsRequestContext<A extends ClientFrame['action']> {
  readonly connectionId: string;
  readonly frame: FrameOf<A>;
  readonly identity: Identity;
}

/** Identities never change during a connection's life, so a warm container keeps them. */
const identities = new Map<string, Identity>();
export const wsIdentity = (): WsMiddleware => ({
  before: async (request) => {
    const { connectionId } = request.event.requestContext;
    let identity = identities.get(connectionId);
    if (!identity) {
      identity = await connectionIdentity(connectionStore, connectionId);
      if (identities.size >= 10_000) identities.clear();
      identities.set(connectionId, identity);
    }
    request.context.caller = identity;
  },
});

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
