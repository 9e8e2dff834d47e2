/** Connections: tickets, $connect / $disconnect, subscriptions and watches (table writes only). */
import { ConnectionService } from '../domain/connections.ts';
import { systemClock } from '../domain/ports.ts';
import { env } from './env.ts';
import { connectionStore, presenceStore, ticketStore } from './stores.ts';

export const connections = new ConnectionService(
  ticketStore,
  connectionStore,
  systemClock,
  {
    ticketTtlSeconds: env.TICKET_TTL_SECONDS,
    connectionTtlSeconds: env.CONNECTION_TTL_SECONDS,
    publicUrl: env.WS_PUBLIC_URL,
  },
  presenceStore,
);
