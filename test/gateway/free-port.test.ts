/** Free ports for the local cloud: outside the range outgoing connections take theirs from. */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { describe, expect, it, vi } from 'vitest';
import { freePort, freePorts, listen } from '../../infra/local/free-port.ts';

const ephemeralLow = Number(
  readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0],
);

describe('freePort / freePorts', () => {
  it('picks distinct ports below the ephemeral range that a server can then bind', async () => {
    // Act
    const ports = await freePorts(5);
    const single = await freePort();

    // Assess
    expect(new Set(ports).size).toBe(5);
    for (const port of [...ports, single]) {
      expect(port).toBeGreaterThanOrEqual(10_000);
      expect(port).toBeLessThan(ephemeralLow);
    }
    const server = createServer();
    try {
      expect(await listen(server, single, '0.0.0.0')).toBe(single);
    } finally {
      server.close();
    }
  });

  it('skips a port that is in use and tries another', async () => {
    // Prepare: occupy a port and make the first random pick land exactly on it
    const busy = createServer();
    const occupied = await listen(busy, await freePort(), '127.0.0.1');
    const fraction = (occupied - 10_000 + 0.5) / (ephemeralLow - 10_000);
    const random = vi.spyOn(Math, 'random').mockReturnValueOnce(fraction).mockReturnValueOnce(0.25);

    // Act
    const picked = await freePort();

    // Assess
    try {
      expect(picked).not.toBe(occupied);
      expect(picked).toBe(10_000 + Math.floor(0.25 * (ephemeralLow - 10_000)));
      expect(random).toHaveBeenCalledTimes(2);
    } finally {
      random.mockRestore();
      busy.close();
    }
  });
});
