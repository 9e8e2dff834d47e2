/**
 * The soak, short (test/soak/): 200 sockets for 2 minutes with pings, a trickle of messages and random
 * closes and reopens, then the reconnect storm, against a forked local cloud. SOAK_SOCKETS and
 * SOAK_MINUTES change the size and length (`npm run soak` runs the long one).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forkCloud, type SoakCloud } from '../soak/cloud.ts';
import { failures, formatReport } from '../soak/report.ts';
import { defaultOptions, runSoak, type SoakFigures } from '../soak/soak.ts';

const sockets = Number(process.env.SOAK_SOCKETS ?? 200);
const minutes = Number(process.env.SOAK_MINUTES ?? 2);

let cloud: SoakCloud | undefined;
let figures: SoakFigures;

beforeAll(async () => {
  cloud = await forkCloud();
}, 120_000);
afterAll(async () => {
  await cloud?.stop();
}, 60_000);

describe(`soak: ${sockets} sockets for ${minutes} min, then a reconnect storm`, () => {
  it(
    'keeps delivering to every socket, leaves no item of a closed socket, stays flat, logs no error, and weathers the storm without a 5xx',
    async () => {
      // Prepare
      if (!cloud) throw new Error('the local cloud did not start');

      // Act
      figures = await runSoak(cloud, defaultOptions(sockets, minutes));

      // Assess
      console.log(formatReport(figures));
      expect(figures.delivery.delivered).toBe(figures.delivery.expected);
      expect(figures.holes).toBe(0);
      expect(figures.leaks).toMatchObject({ items: 0, presence: 0 });
      expect(figures.storm.connect5xx).toBe(0);
      expect(figures.storm.back).toBe(sockets);
      expect(failures(figures)).toEqual([]);
    },
    (minutes * 60 + 600) * 1000,
  );
});
