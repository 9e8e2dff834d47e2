/**
 * The stack of a client action that needs its caller: the frame stack (shared/ws/middleware.ts) plus
 * wsIdentity(), which reads the connection's item (its identity and expiry), cached for the
 * connection's lifetime.
 */
import type { Identity } from '../domain/identity.ts';
import { connectionOf } from '../domain/connections.ts';
import type { ConnectionRecord } from '../domain/ports.ts';
import type { ClientFrame, Envelope, FrameOf } from '../domain/schemas.ts';
import { connectionStore } from '../runtime/stores.ts';
import { reply, type WsMiddleware, wsFrameStack } from './middleware.ts';

export interface WsRequestContext<A extends ClientFrame['action']> {
  readonly connectionId: string;
  readonly frame: FrameOf<A>;
  readonly identity: Identity;
  /** The connection's item: who holds it and until when. */
  readonly connection: ConnectionRecord;
}

/** Connection items never change during a connection's life, so a warm container keeps them. */
const connectionItems = new Map<string, ConnectionRecord>();
export const wsIdentity = (): WsMiddleware => ({
  before: async (request) => {
    const { connectionId } = request.event.requestContext;
    let connection = connectionItems.get(connectionId);
    if (!connection) {
      connection = await connectionOf(connectionStore, connectionId);
      if (connectionItems.size >= 10_000) connectionItems.clear();
      connectionItems.set(connectionId, connection);
    }
    request.context.connection = connection;
    request.context.caller = connection.identity;
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
      const { frame, caller: identity, connection } = context;
      if (!frame || !identity || !connection) throw new Error('wsFrame and wsIdentity must run first');
      const connectionId = event.requestContext.connectionId;
      return reply(await handler({ connectionId, frame: frame as FrameOf<A>, identity, connection }));
    });
