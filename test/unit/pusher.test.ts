import {
  ApiGatewayManagementApiClient,
  DeleteConnectionCommand,
  ForbiddenException,
  GoneException,
  LimitExceededException,
  PostToConnectionCommand,
} from '@aws-sdk/client-apigatewaymanagementapi';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { ApiGatewayPusher } from '../../shared/adapters/pusher.ts';

const api = mockClient(ApiGatewayManagementApiClient);
const pusher = new ApiGatewayPusher(
  'https://example.execute-api.us-east-1.amazonaws.com/prod',
  new ApiGatewayManagementApiClient({}),
);

beforeEach(() => api.reset());

describe('ApiGatewayPusher', () => {
  it('posts the payload to the connection', async () => {
    api.on(PostToConnectionCommand).resolves({});

    const result = await pusher.post('abc=', '{"type":"pong"}');

    expect(result).toBe('delivered');
    expect(api).toHaveReceivedNthCommandWith(PostToConnectionCommand, 1, {
      ConnectionId: 'abc=',
      Data: '{"type":"pong"}',
    });
  });

  it('reports a 410 GoneException as a gone connection instead of failing', async () => {
    api
      .on(PostToConnectionCommand)
      .rejects(new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } }));

    await expect(pusher.post('abc=', 'x')).resolves.toBe('gone');
  });

  it('lets throttling and other errors fail so the caller retries them', async () => {
    api
      .on(PostToConnectionCommand)
      .rejectsOnce(new LimitExceededException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }))
      .rejectsOnce(new ForbiddenException({ message: 'no', $metadata: { httpStatusCode: 403 } }));

    await expect(pusher.post('abc=', 'x')).rejects.toBeInstanceOf(LimitExceededException);
    await expect(pusher.post('abc=', 'x')).rejects.toBeInstanceOf(ForbiddenException);
  });

  it('closes a connection through DELETE @connections, and reports one already gone', async () => {
    api
      .on(DeleteConnectionCommand)
      .resolvesOnce({})
      .rejectsOnce(new GoneException({ message: 'gone', $metadata: { httpStatusCode: 410 } }))
      .rejectsOnce(new LimitExceededException({ message: 'slow down', $metadata: { httpStatusCode: 429 } }));

    await expect(pusher.disconnect('abc=')).resolves.toBe('closed');
    await expect(pusher.disconnect('abc=')).resolves.toBe('gone');
    await expect(pusher.disconnect('abc=')).rejects.toBeInstanceOf(LimitExceededException);
    expect(api).toHaveReceivedNthCommandWith(DeleteConnectionCommand, 1, { ConnectionId: 'abc=' });
  });
});
