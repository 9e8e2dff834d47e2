/**
 * Browser SDK HTTP: backoff bounds (full jitter), every call's timeout and abort, the API's errors as
 * ApiError, and one token renewal on an expired token, keeping the same visitor.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, retry } from '../../web/sdk/backoff.ts';
import { ApiError, type ChatClient, requestJson } from '../../web/sdk/index.ts';
import { CHAT, FakeBackend, makeClient } from './sdk-fakes.ts';

/** A fetch that never answers, but honours its AbortSignal like the real one. */
const silentFetch = ((_url: string, init?: RequestInit) =>
  new Promise((_resolve, reject) => {
    init?.signal?.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
  })) as typeof fetch;

describe('browser SDK HTTP', () => {
  const clients: ChatClient[] = [];
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
    vi.useRealTimers();
    vi.restoreAllMocks();
  });

  it('draws backoff delays between zero and the capped exponential bound', () => {
    // Prepare
    const bounds = (attempt: number) => [
      backoffDelay(attempt, 500, 30_000, () => 0),
      backoffDelay(attempt, 500, 30_000, () => 0.999_999),
    ];

    // Act
    const [first, third, late] = [bounds(0), bounds(2), bounds(20)];
    const random = Array.from({ length: 200 }, () => backoffDelay(3, 500, 30_000));

    // Assess
    expect(first).toEqual([0, expect.closeTo(500, 0)]);
    expect(third).toEqual([0, expect.closeTo(2_000, 0)]);
    expect(late).toEqual([0, expect.closeTo(30_000, 0)]);
    expect(random.every((delay) => delay >= 0 && delay < 4_000)).toBe(true);
    expect(new Set(random).size).toBeGreaterThan(100);
  });

  it('retries with growing backoff waits and stops on an error that is not worth retrying', async () => {
    // Prepare: fake timers, the jitter pinned at half the bound; two 503s, then a 403.
    vi.useFakeTimers();
    vi.spyOn(Math, 'random').mockReturnValue(0.5);
    const errors = [new ApiError(503, 'busy', 'busy'), new ApiError(503, 'busy', 'busy')];
    let calls = 0;
    const run = async () => {
      calls += 1;
      throw errors.shift() ?? new ApiError(403, 'forbidden', 'no');
    };

    // Act
    const outcome = retry(run, { minMs: 100, maxMs: 1_000, retryable: (e) => (e as ApiError).status >= 500 });
    const assessed = expect(outcome).rejects.toMatchObject({ status: 403 });
    await vi.advanceTimersByTimeAsync(149); // waits of 50 ms, then 100 ms
    const early = calls;
    await vi.advanceTimersByTimeAsync(1);

    // Assess
    await assessed;
    expect(early).toBe(2);
    expect(calls).toBe(3);
  });

  it("waits the server's Retry-After of a 429 before the next attempt, not the shorter backoff", async () => {
    // Prepare: a 429 asking for 3 s (the body's retryAfter, as the API sends it), then success
    vi.useFakeTimers();
    const answers = [
      new Response(JSON.stringify({ error: { code: 'rate_limited', message: 'slow down', retryAfter: 3 } }), {
        status: 429,
        headers: { 'retry-after': '3' },
      }),
      new Response(JSON.stringify({ ok: true }), { status: 200 }),
    ];
    let calls = 0;
    const fetchFake = (async () => {
      calls += 1;
      return answers.shift() as Response;
    }) as typeof fetch;

    // Act
    const outcome = retry(() => requestJson('http://api.test/v1/unread', { fetch: fetchFake }), {
      minMs: 100,
      maxMs: 1_000,
    });
    await vi.advanceTimersByTimeAsync(2_999);
    const early = calls;
    await vi.advanceTimersByTimeAsync(1);

    // Assess
    await expect(outcome).resolves.toEqual({ ok: true });
    expect(early).toBe(1);
    expect(calls).toBe(2);
  });

  it('aborts a request that gets no answer within its timeout', async () => {
    // Prepare
    vi.useFakeTimers();

    // Act
    const request = requestJson('http://api.test/v1/unread', { fetch: silentFetch, timeoutMs: 1_000 });
    const assessed = expect(request).rejects.toMatchObject({ status: 0, code: 'timeout' });
    await vi.advanceTimersByTimeAsync(1_000);

    // Assess
    await assessed;
  });

  it("aborts a request when the caller's signal aborts", async () => {
    // Prepare
    const controller = new AbortController();

    // Act
    const request = requestJson('http://api.test/v1/unread', {
      fetch: silentFetch,
      signal: controller.signal,
    });
    controller.abort();

    // Assess
    await expect(request).rejects.toMatchObject({ code: 'aborted' });
  });

  it("turns the API's error body into an ApiError with its status, code and details", async () => {
    // Prepare
    const fetch = (async () =>
      new Response(JSON.stringify({ error: { code: 'invalid_request', message: 'bad', details: [1] } }), {
        status: 400,
      })) as typeof globalThis.fetch;

    // Act
    const failing = requestJson('http://api.test/v1/chats', { fetch });

    // Assess
    await expect(failing).rejects.toMatchObject({ status: 400, code: 'invalid_request', details: [1] });
    await expect(failing).rejects.toBeInstanceOf(ApiError);
  });

  it('renews an expired token once, retries with the new one, and keeps it for later calls', async () => {
    // Prepare: the first token has expired; renewals return the same visitor's next token.
    const backend = new FakeBackend();
    backend.expired.add('token-1');
    let renewals = 0;
    const renewToken = async () => `token-${++renewals + 1}`;
    const { client } = makeClient(backend, { token: 'token-1', renewToken });
    clients.push(client);

    // Act: three calls at once, then one more.
    await Promise.all([client.getChat(CHAT), client.getChat(CHAT), client.getUnread().catch(() => {})]);
    await client.getChat(CHAT);

    // Assess
    expect(renewals).toBe(1);
    expect(backend.tokensSeen.filter((t) => t === 'token-2')).toHaveLength(4);
  });

  it('gives up after one renewal when the new token is refused too', async () => {
    // Prepare: every token has expired.
    const backend = new FakeBackend();
    backend.expired.add('old').add('new');
    let renewals = 0;
    const { client } = makeClient(backend, {
      token: () => 'old',
      renewToken: async () => {
        renewals += 1;
        return 'new';
      },
    });
    clients.push(client);

    // Act
    const call = client.getChat(CHAT);

    // Assess
    await expect(call).rejects.toMatchObject({ status: 401 });
    expect(renewals).toBe(1);
    expect(backend.tokensSeen).toEqual(['old', 'new']);
  });
});
