/**
 * Secrets Manager's GetSecretValue over node:http(s) with our Signature V4 (shared/adapters/secrets.ts):
 * the same request as the AWS SDK's client (held to the SDK's signer), the secret string back, retries
 * of what is worth retrying and clear errors for the rest, and the endpoint of each partition.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { SECRET_ATTEMPTS, secretFromArn, secretLocation } from '../../shared/adapters/secrets.ts';
import { NodeSha256 } from '../support/sha256.ts';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:visitor-AbCdEf';
const CREDENTIALS = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'secret-example', sessionToken: 'token' };

interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
}

type Answer = (request: Received, response: ServerResponse) => void;

const json = (status: number, body: unknown, response: ServerResponse) => {
  response.statusCode = status;
  response.setHeader('content-type', 'application/x-amz-json-1.1');
  response.end(JSON.stringify(body));
};

describe('secretFromArn', () => {
  let answers: Answer[] = [];
  const received: Received[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const got = {
        method: request.method ?? '',
        url: request.url ?? '',
        headers: request.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      };
      received.push(got);
      const answer = answers.shift() ?? ((_request, res) => json(200, { SecretString: 'fallback' }, res));
      answer(got, response);
    });
  });
  let endpoint = '';

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));
  afterEach(() => {
    answers = [];
    received.length = 0;
    vi.unstubAllEnvs();
  });

  it('sends the request the SDK’s GetSecretValue sends, signed as the SDK’s signer signs it', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', endpoint);
    answers = [
      (_request, response) => json(200, { Name: 'visitor', SecretString: 'from-sdk' }, response),
      (_request, response) => json(200, { Name: 'visitor', SecretString: 'ours' }, response),
    ];
    const sdk = new SecretsManagerClient({ region: 'eu-west-1', endpoint, credentials: CREDENTIALS });

    // Act
    const viaSdk = await sdk.send(new GetSecretValueCommand({ SecretId: ARN }));
    const ours = await secretFromArn(ARN, () => CREDENTIALS)();

    // Assess
    expect(viaSdk.SecretString).toBe('from-sdk');
    expect(ours).toBe('ours');
    const [fromSdk, fromUs] = received;
    expect(fromUs?.method).toBe(fromSdk?.method);
    expect(fromUs?.url).toBe(fromSdk?.url);
    for (const name of [
      'content-type',
      'content-length',
      'x-amz-target',
      'x-amz-content-sha256',
      'x-amz-security-token',
    ]) {
      expect(fromUs?.headers[name], name).toBe(fromSdk?.headers[name]);
    }
    expect(JSON.parse(fromUs?.body ?? '')).toEqual(JSON.parse(fromSdk?.body ?? ''));
    const date = String(fromUs?.headers['x-amz-date']);
    const at = new Date(
      `${date.slice(0, 4)}-${date.slice(4, 6)}-${date.slice(6, 8)}T${date.slice(9, 11)}:${date.slice(11, 13)}:${date.slice(13, 15)}Z`,
    );
    const signedNames = /SignedHeaders=([^,]+)/.exec(String(fromUs?.headers.authorization))?.[1]?.split(';');
    const reference = await new SignatureV4({
      credentials: CREDENTIALS,
      region: 'eu-west-1',
      service: 'secretsmanager',
      sha256: NodeSha256,
      uriEscapePath: true,
    }).sign(
      {
        method: 'POST',
        protocol: 'http:',
        hostname: '127.0.0.1',
        path: '/',
        headers: Object.fromEntries(
          (signedNames ?? [])
            .filter((name) => name !== 'authorization' && name !== 'x-amz-date')
            .map((name) => [name, String(fromUs?.headers[name])]),
        ),
        body: fromUs?.body ?? '',
        query: {},
      },
      { signingDate: at },
    );
    expect(fromUs?.headers.authorization).toBe(reference.headers.authorization);
  });

  it('asks the service again after a 5xx or a throttling answer, and returns the secret', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', endpoint);
    answers = [
      (_request, response) => json(500, { __type: 'InternalServiceError', message: 'try again' }, response),
      (_request, response) => json(400, { __type: 'ThrottlingException', message: 'slow down' }, response),
      (_request, response) => json(200, { SecretString: 'third time' }, response),
    ];

    // Act
    const secret = await secretFromArn(ARN, () => CREDENTIALS)();

    // Assess
    expect(secret).toBe('third time');
    expect(received).toHaveLength(SECRET_ATTEMPTS);
  });

  it('fails after the last attempt with the service’s error type and status', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', endpoint);
    answers = Array.from(
      { length: SECRET_ATTEMPTS },
      () => (_request: Received, response: ServerResponse) =>
        json(503, { __type: 'ServiceUnavailable', message: 'down' }, response),
    );

    // Act
    const reading = secretFromArn(ARN, () => CREDENTIALS)();

    // Assess
    await expect(reading).rejects.toMatchObject({
      name: 'ServiceUnavailable',
      $metadata: { httpStatusCode: 503 },
    });
    expect(received).toHaveLength(SECRET_ATTEMPTS);
  });

  it.each([
    [
      'a missing secret',
      { __type: 'com.amazonaws.secretsmanager#ResourceNotFoundException', Message: 'no such secret' },
      'ResourceNotFoundException',
      /no such secret/,
    ],
    [
      'a denied read',
      { __type: 'AccessDeniedException', message: 'not allowed' },
      'AccessDeniedException',
      /not allowed/,
    ],
  ])('fails at once, without another attempt, on %s', async (_case, body, name, message) => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', endpoint);
    answers = [(_request, response) => json(400, body, response)];

    // Act
    const failure: unknown = await secretFromArn(ARN, () => CREDENTIALS)().catch((error: unknown) => error);

    // Assess
    expect(failure).toMatchObject({ name, $metadata: { httpStatusCode: 400 } });
    expect((failure as Error).message).toMatch(message);
    expect(received).toHaveLength(1);
  });

  it('fails without another attempt on a secret that has no string value', async () => {
    // Prepare
    vi.stubEnv('AWS_ENDPOINT_URL_SECRETS_MANAGER', endpoint);
    answers = [(_request, response) => json(200, { Name: 'visitor', SecretBinary: 'AAEC' }, response)];

    // Act
    const reading = secretFromArn(ARN, () => CREDENTIALS)();

    // Assess
    await expect(reading).rejects.toThrow(/has no string value/);
    expect(received).toHaveLength(1);
  });
});

describe('secretLocation', () => {
  it.each([
    [ARN, 'eu-west-1', 'https://secretsmanager.eu-west-1.amazonaws.com/'],
    [
      'arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:s-AbCdEf',
      'cn-north-1',
      'https://secretsmanager.cn-north-1.amazonaws.com.cn/',
    ],
    [
      'arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:s-AbCdEf',
      'us-gov-west-1',
      'https://secretsmanager.us-gov-west-1.amazonaws.com/',
    ],
  ])('finds the regional endpoint of %s', (arn, region, endpoint) => {
    // Act
    const location = secretLocation(arn, undefined);

    // Assess
    expect(location.region).toBe(region);
    expect(location.endpoint.href).toBe(endpoint);
  });

  it('takes the endpoint from AWS_ENDPOINT_URL_SECRETS_MANAGER when it is set', () => {
    // Act
    const location = secretLocation(ARN, 'https://vpce-1234.secretsmanager.eu-west-1.vpce.amazonaws.com');

    // Assess
    expect(location).toMatchObject({ region: 'eu-west-1' });
    expect(location.endpoint.hostname).toBe('vpce-1234.secretsmanager.eu-west-1.vpce.amazonaws.com');
  });

  it.each([
    ['not an ARN', 'visitor-secret', /not a Secrets Manager secret ARN/],
    [
      'another service’s ARN',
      'arn:aws:ssm:eu-west-1:123456789012:parameter/x',
      /not a Secrets Manager secret ARN/,
    ],
    [
      'an unknown partition',
      'arn:aws-iso:secretsmanager:us-iso-east-1:1:secret:s',
      /AWS_ENDPOINT_URL_SECRETS_MANAGER/,
    ],
  ])('refuses %s with the reason', (_case, arn, reason) => {
    // Act
    const locating = () => secretLocation(arn, undefined);

    // Assess
    expect(locating).toThrow(reason);
  });
});
