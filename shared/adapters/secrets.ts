/**
 * Reads a secret string from Secrets Manager: one `GetSecretValue` call, made once per instance by the
 * token service on the first token it signs or checks with that secret. It is sent as the AWS SDK's
 * client sends it (the `awsJson1_1` protocol: `POST /` with the operation in `X-Amz-Target` and
 * `{"SecretId": …}` as the body, test/unit/secrets.test.ts compares the two), signed with Signature V4
 * (./sigv4.ts) over node:https. The SDK's client took 10–20 ms to load on that first request, and
 * about 30 KB of every bundle that checks tokens (docs/benchmarks.md, "Cold starts").
 *
 * - Endpoint: `AWS_ENDPOINT_URL_SECRETS_MANAGER` when set (the SDK's own variable for it), otherwise the
 *   regional endpoint of the ARN's region and partition (`secretsmanager.<region>.amazonaws.com`, `.cn`
 *   in China); credentials: the function's, from the environment (./sigv4.ts, `credentialsFromEnv`).
 * - Up to SECRET_ATTEMPTS attempts, each given SECRET_TIMEOUT_MS: again after a network error, a time-out,
 *   a 5xx or a throttling answer, with a growing pause; any other answer fails at once with a
 *   `AwsApiError` named after the service's error type (`ResourceNotFoundException`,
 *   `AccessDeniedException`, …) and carrying the HTTP status.
 */
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { readText } from './http-body.ts';
import { AwsApiError, type AwsCredentials, credentialsFromEnv, sha256Hex, SigV4Signer } from './sigv4.ts';

export const SECRET_ATTEMPTS = 3;
const SECRET_TIMEOUT_MS = 5_000;
const MAX_ANSWER_BYTES = 256 * 1024;
const RETRIED_TYPES = new Set(['ThrottlingException', 'TooManyRequestsException', 'RequestLimitExceeded']);

const PARTITION_SUFFIX: Readonly<Record<string, string>> = {
  aws: 'amazonaws.com',
  'aws-us-gov': 'amazonaws.com',
  'aws-cn': 'amazonaws.com.cn',
};

/** Region and endpoint of a secret's ARN (`arn:<partition>:secretsmanager:<region>:<account>:secret:<name>`). */
export const secretLocation = (
  arn: string,
  override = process.env.AWS_ENDPOINT_URL_SECRETS_MANAGER,
): { region: string; endpoint: URL } => {
  const [prefix, partition = '', service, region = ''] = arn.split(':');
  if (prefix !== 'arn' || service !== 'secretsmanager' || !/^[a-z0-9-]+$/.test(region)) {
    throw new Error(`not a Secrets Manager secret ARN: ${arn}`);
  }
  if (override) return { region, endpoint: new URL(override) };
  const suffix = PARTITION_SUFFIX[partition];
  if (!suffix) {
    throw new Error(`no known endpoint for the ${partition} partition: set AWS_ENDPOINT_URL_SECRETS_MANAGER`);
  }
  return { region, endpoint: new URL(`https://secretsmanager.${region}.${suffix}`) };
};

/** One signed `GetSecretValue`: the answer's status and body. */
const getSecretValue = (
  arn: string,
  credentials: AwsCredentials,
  signer: SigV4Signer,
  endpoint: URL,
): Promise<{ status: number; body: string }> => {
  const body = JSON.stringify({ SecretId: arn });
  const path = endpoint.pathname || '/';
  const payloadHash = sha256Hex(body);
  const headers = signer.sign(
    {
      method: 'POST',
      path,
      headers: {
        host: endpoint.host,
        'content-type': 'application/x-amz-json-1.1',
        'content-length': String(Buffer.byteLength(body)),
        'x-amz-content-sha256': payloadHash,
        'x-amz-target': 'secretsmanager.GetSecretValue',
      },
      payloadHash,
    },
    credentials,
  );
  const send = endpoint.protocol === 'http:' ? httpRequest : httpsRequest;
  return new Promise((resolve, reject) => {
    const request = send(
      {
        protocol: endpoint.protocol,
        hostname: endpoint.hostname,
        port: endpoint.port,
        method: 'POST',
        path,
        headers,
        signal: AbortSignal.timeout(SECRET_TIMEOUT_MS),
      },
      (response) => {
        readText(response, MAX_ANSWER_BYTES).then(
          (text) => resolve({ status: response.statusCode ?? 0, body: text }),
          reject,
        );
      },
    );
    request.once('error', reject);
    request.end(body);
  });
};

const errorOf = (status: number, body: string): AwsApiError => {
  let type = `Http${status}Error`;
  let message = body.slice(0, 500);
  try {
    const parsed = JSON.parse(body) as { __type?: unknown; message?: unknown; Message?: unknown };
    if (typeof parsed.__type === 'string') type = parsed.__type.split('#').pop() || type;
    message = String(parsed.message ?? parsed.Message ?? message);
  } catch {
    // not JSON: the text as it came
  }
  return new AwsApiError(type, status, `Secrets Manager answered ${status} ${type}: ${message}`);
};

const pause = (attempt: number) =>
  new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * (0.5 + Math.random() / 2)));

/** A 200 answer without a secret string (a binary secret, or not the service's JSON). Not retried. */
class SecretValueError extends Error {
  override readonly name = 'SecretValueError';
}

/** Network errors and time-outs, 5xx answers and throttling are worth another attempt; the rest is not. */
const retryable = (error: unknown): boolean =>
  error instanceof AwsApiError
    ? error.$metadata.httpStatusCode >= 500 || RETRIED_TYPES.has(error.name)
    : !(error instanceof SecretValueError);

const readOnce = async (
  arn: string,
  credentials: AwsCredentials,
  signer: SigV4Signer,
  endpoint: URL,
): Promise<string> => {
  const { status, body } = await getSecretValue(arn, credentials, signer, endpoint);
  if (status !== 200) throw errorOf(status, body);
  let value: unknown;
  try {
    value = (JSON.parse(body) as { SecretString?: unknown }).SecretString;
  } catch {
    throw new SecretValueError(`secret ${arn}: the answer is not JSON`);
  }
  if (typeof value !== 'string' || !value) throw new SecretValueError(`secret ${arn} has no string value`);
  return value;
};

/** The secret string of `arn` (see above); rejects when it has none (a binary secret). */
export const secretFromArn =
  (arn: string, credentials: () => AwsCredentials = credentialsFromEnv) =>
  async (): Promise<string> => {
    const { region, endpoint } = secretLocation(arn);
    const signer = new SigV4Signer(region, 'secretsmanager');
    const keys = credentials();
    for (let attempt = 1; ; attempt++) {
      try {
        return await readOnce(arn, keys, signer, endpoint);
      } catch (error) {
        if (attempt >= SECRET_ATTEMPTS || !retryable(error)) throw error;
        await pause(attempt);
      }
    }
  };
