/**
 * The @connections client's calls and how it reads the answers, against a stand-in endpoint over HTTP.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayPusher } from '../../shared/adapters/pusher.ts';
import { AwsApiError } from '../../shared/adapters/sigv4.ts';
import { type ConnectionsEndpoint, startConnectionsEndpoint } from '../support/connections-endpoint.ts';

let api: ConnectionsEndpoint;
let pusher: ApiGatewayPusher;
beforeAll(async () => {
  api = await startConnectionsEndpoint();
  pusher = new ApiGatewayPusher(api.endpoint, () => ({ accessKeyId: 'AKID', secretAccessKey: 'secret' }));
});
beforeEach(() => api.reset());
afterAll(() => api.close());

describe('ApiGatewayPusher', () => {
  it('posts the payload as the body of POST @connections/{id} under the endpoint’s stage, signed', async () => {
    // Act
    const result = await pusher.post('abc=', '{"type":"pong"}');

    // Assess
    expect(result).toBe('delivered');
    const [call] = api.calls();
    expect(call).toMatchObject({
      method: 'POST',
      path: '/prod/@connections/abc%3D',
      body: '{"type":"pong"}',
    });
    expect(call?.headers.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKID\/\d{8}\/[a-z0-9-]+\/execute-api\//,
    );
    expect(call?.headers['x-amz-security-token']).toBeUndefined();
  });

  it('sends the session token of temporary credentials', async () => {
    // Prepare
    const withToken = new ApiGatewayPusher(api.endpoint, () => ({
      accessKeyId: 'ASIA',
      secretAccessKey: 'secret',
      sessionToken: 'the-token',
    }));

    // Act
    await withToken.post('abc=', 'x');

    // Assess
    expect(api.calls()[0]?.headers['x-amz-security-token']).toBe('the-token');
  });

  it('reports a 410 GoneException as a gone connection instead of failing', async () => {
    // Prepare
    api.answer('POST', 'abc=', 'gone');

    // Act, Assess
    await expect(pusher.post('abc=', 'x')).resolves.toBe('gone');
  });

  it('fails on throttling and other errors, named after their error type, so the caller retries them', async () => {
    // Prepare
    api.answer('POST', 'slow=', { status: 429, type: 'LimitExceededException' });
    api.answer('POST', 'no=', { status: 403, type: 'ForbiddenException' });

    // Act
    const throttled = await pusher.post('slow=', 'x').catch((error: unknown) => error);
    const forbidden = await pusher.post('no=', 'x').catch((error: unknown) => error);

    // Assess
    expect(throttled).toBeInstanceOf(AwsApiError);
    expect(throttled).toMatchObject({ name: 'LimitExceededException', $metadata: { httpStatusCode: 429 } });
    expect(forbidden).toMatchObject({ name: 'ForbiddenException', $metadata: { httpStatusCode: 403 } });
  });

  it('closes a connection through DELETE @connections/{id}, and reports one already gone', async () => {
    // Prepare
    api.answer('DELETE', 'gone=', 'gone');
    api.answer('DELETE', 'busy=', { status: 429, type: 'LimitExceededException' });

    // Act
    const closed = await pusher.disconnect('abc=');
    const gone = await pusher.disconnect('gone=');
    const failed = await pusher.disconnect('busy=').catch((error: unknown) => error);

    // Assess
    expect([closed, gone]).toEqual(['closed', 'gone']);
    expect(failed).toMatchObject({ name: 'LimitExceededException' });
    expect(api.calls('DELETE').map((call) => [call.path, call.body])).toEqual([
      ['/prod/@connections/abc%3D', ''],
      ['/prod/@connections/gone%3D', ''],
      ['/prod/@connections/busy%3D', ''],
    ]);
  });

  it('fails a post whose connection cannot be opened', async () => {
    // Prepare: nothing listens there any more
    const closedEndpoint = await startConnectionsEndpoint();
    await closedEndpoint.close();
    const nowhere = new ApiGatewayPusher(closedEndpoint.endpoint, () => ({
      accessKeyId: 'A',
      secretAccessKey: 'S',
    }));

    // Act, Assess
    await expect(nowhere.post('abc=', 'x')).rejects.toMatchObject({ code: 'ECONNREFUSED' });
  });
});
