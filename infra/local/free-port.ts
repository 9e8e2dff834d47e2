/**
 * Free TCP ports for the local cloud and the tests. A port is picked at random BELOW the OS's ephemeral
 * range and checked by binding it: the OS hands ports of the ephemeral range to outgoing connections
 * too (every fetch and SDK call), so a port read back from `listen(0)` and released can be taken by a
 * connection before its server binds it (EADDRINUSE under a busy test run). Below the range only another
 * explicit bind can take it.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';

const ephemeralLow = (): number => {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 32_768;
  } catch {
    return 32_768; // not Linux: macOS and Windows start their ranges higher still
  }
};
const PICK_FROM = 10_000;
const PICK_BELOW = ephemeralLow();

const bindable = (port: number, host: string): Promise<number | undefined> =>
  new Promise((resolve) => {
    const server = createServer();
    server.unref();
    server.once('error', () => resolve(undefined));
    server.listen({ port, host, exclusive: true }, () => {
      const address = server.address();
      const bound = address !== null && typeof address !== 'string' ? address.port : undefined;
      server.close(() => resolve(bound));
    });
  });

/** A free TCP port (see above); falls back to the OS's pick when the range below is too small. */
export const freePort = async (
  host = '127.0.0.1',
  taken: ReadonlySet<number> = new Set(),
): Promise<number> => {
  if (PICK_BELOW - PICK_FROM >= 1_000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = PICK_FROM + Math.floor(Math.random() * (PICK_BELOW - PICK_FROM));
      if (!taken.has(port) && (await bindable(port, host)) === port) return port;
    }
  }
  const port = await bindable(0, host);
  if (port === undefined) throw new Error('could not find a free port');
  return port;
};

/** Several distinct free ports. */
export const freePorts = async (count: number, host = '127.0.0.1'): Promise<number[]> => {
  const ports = new Set<number>();
  while (ports.size < count) ports.add(await freePort(host, ports));
  return [...ports];
};

/**
 * Pending connections a listener's accept queue holds (Node's default is 511; Linux caps it at
 * net.core.somaxconn). A reconnect storm of a thousand sockets overflowed 511 while the event loop was
 * busy: the kernel dropped their SYNs and the clients waited out TCP's retransmission timer (1 s, 3 s, 7 s).
 */
const BACKLOG = 4096;

/** Starts listening and resolves with the bound port (the one asked for, or the OS's pick for 0). */
export const listen = (server: Server, port: number, host: string): Promise<number> =>
  new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: BACKLOG }, () => {
      server.off('error', reject);
      const address = server.address();
      if (address === null || typeof address === 'string')
        reject(new Error('could not determine the bound port'));
      else resolve(address.port);
    });
  });
