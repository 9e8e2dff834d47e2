/** Sockets: tickets, connections, subscriptions and pushes through the WebSocket API's @connections. */
import { ApiGatewayPusher } from '../adapters/pusher.ts';
import { systemClock } from '../domain/ports.ts';
import { RealtimeService } from '../domain/realtime.ts';
import { env } from './env.ts';
import { chatStore, connectionStore, presenceStore, statsStore, ticketStore } from './stores.ts';

export const realtime = new RealtimeService(
  ticketStore,
  connectionStore,
  chatStore,
  new ApiGatewayPusher(env.WS_MANAGEMENT_ENDPOINT),
  systemClock,
  {
    ticketTtlSeconds: env.TICKET_TTL_SECONDS,
    connectionTtlSeconds: env.CONNECTION_TTL_SECONDS,
    publicUrl: env.WS_PUBLIC_URL,
    fanoutConcurrency: env.FANOUT_CONCURRENCY,
  },
  statsStore,
  presenceStore,
);
