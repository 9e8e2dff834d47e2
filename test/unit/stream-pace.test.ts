/**
 * The local cloud's stream pacing (infra/local/stream-pace.ts) and the bench option that picks it: its
 * own quick polling, woken by writes and slowed while overloaded, or Lambda's base rate of 4 reads a
 * second whatever happens.
 */
import { describe, expect, it } from 'vitest';
import { AWS_POLL_MS, OVERLOADED_POLL_GAP_MS, streamPace } from '../../infra/local/stream-pace.ts';
import { OptionError, parseOptions } from '../bench/options.ts';

describe('stream pace', () => {
  it('polls quickly and on each write locally, and no more than every 100 ms while overloaded', () => {
    // Prepare
    let overloaded = false;

    // Act
    const pace = streamPace('local', () => overloaded);
    const gapWhileCalm = pace.minRoundGapMs();
    overloaded = true;
    const gapWhileOverloaded = pace.minRoundGapMs();

    // Assess
    expect(pace).toMatchObject({ pollIntervalMs: 25, idlePollIntervalMs: 250, wokenByWrites: true });
    expect(gapWhileCalm).toBe(0);
    expect(gapWhileOverloaded).toBe(OVERLOADED_POLL_GAP_MS);
  });

  it('reads 4 times a second as Lambda does, busy, idle or overloaded, and is never woken by a write', () => {
    // Prepare
    let overloaded = false;

    // Act
    const pace = streamPace('aws', () => overloaded);
    const gaps = [pace.minRoundGapMs()];
    overloaded = true;
    gaps.push(pace.minRoundGapMs());

    // Assess
    expect(AWS_POLL_MS).toBe(250);
    expect(pace).toMatchObject({ pollIntervalMs: 250, idlePollIntervalMs: 250, wokenByWrites: false });
    expect(gaps).toEqual([250, 250]);
  });
});

describe('bench option --stream-polling', () => {
  it('is the local pace unless asked for AWS’s', () => {
    // Act
    const byDefault = parseOptions([]);
    const aws = parseOptions(['--stream-polling', 'aws']);

    // Assess
    expect(byDefault.streamPolling).toBe('local');
    expect(aws.streamPolling).toBe('aws');
  });

  it('refuses a pace it does not know', () => {
    // Act
    const parse = () => parseOptions(['--stream-polling', 'fast']);

    // Assess
    expect(parse).toThrow(OptionError);
  });
});
