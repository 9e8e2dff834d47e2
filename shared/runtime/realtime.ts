/** Pushes to sockets through the WebSocket API's @connections: fan-out, watchers, presence. */
import { ApiGatewayPusher } from '../adapters/pusher.ts';
import { RealtimeService } from '../domain/realtime.ts';
import { connections } from './connections.ts';
import { env } from './env.ts';
import { chatStore, connectionStore, presenceStore, statsStore } from './stores.ts';

export const realtime = new RealtimeService(
  connectionStore,
  connections,
  chatStore,
  new ApiGatewayPusher(env.WS_MANAGEMENT_ENDPOINT),
  { fanoutConcurrency: env.FANOUT_CONCURRENCY },
  statsStore,
  { presence: presenceStore, chats: chatStore },
);
