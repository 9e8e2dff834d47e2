/**
 * A proxy in front of DynamoDB Local that answers a share of the handlers' calls, per operation (the
 * `X-Amz-Target` header, e.g. `DynamoDB_20120810.TransactWriteItems`), with the errors DynamoDB documents
 * on the wire (awsJson1_0: the exception in `__type`, the text in `message`):
 * - HTTP 400 `com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException`
 * - HTTP 400 `com.amazon.coral.availability#ThrottlingException`
 * - HTTP 500 `com.amazonaws.dynamodb.v20120810#InternalServerError`
 * A failed call is answered without reaching DynamoDB Local (nothing is applied). Every other call is
 * forwarded unchanged. The AWS SDK retries all three (throttling with its longer backoff).
 */
import {
  createServer,
  request as httpRequest,
  Agent,
  type IncomingMessage,
  type ServerResponse,
} from 'node:http';
import { randomBytes } from 'node:crypto';
import type { DynamoOperationFaults, FaultInjector } from './faults.ts';
import { listen } from './free-port.ts';

export interface DynamoFaultProxy {
  readonly endpoint: string;
  close(): Promise<void>;
}

type DynamoFault = keyof DynamoOperationFaults;

const ANSWERS: Record<DynamoFault, { status: number; type: string; message: string }> = {
  throughputExceeded: {
    status: 400,
    type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
    message:
      'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
  },
  throttling: {
    status: 400,
    type: 'com.amazon.coral.availability#ThrottlingException',
    message: 'Rate of requests exceeds the allowed throughput.',
  },
  internalError: {
    status: 500,
    type: 'com.amazonaws.dynamodb.v20120810#InternalServerError',
    message: 'Internal server error',
  },
};

/** The operation of a DynamoDB JSON request: `DynamoDB_20120810.PutItem` → `PutItem`. */
export const operationOf = (target: string | undefined): string => target?.split('.').at(-1) ?? '';

/** The error answer for `fault`, as DynamoDB sends it. */
export const dynamoErrorAnswer = (fault: DynamoFault): { status: number; body: string } => {
  const answer = ANSWERS[fault];
  return { status: answer.status, body: JSON.stringify({ __type: answer.type, message: answer.message }) };
};

export const startDynamoFaultProxy = async (options: {
  upstream: string;
  faults: FaultInjector;
  port?: number;
}): Promise<DynamoFaultProxy> => {
  const upstream = new URL(options.upstream);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const rules = options.faults.plan.dynamo ?? {};

  const forward = (req: IncomingMessage, res: ServerResponse, body: Buffer): void => {
    const outgoing = httpRequest(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
        agent,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    outgoing.on('error', () => res.destroy());
    outgoing.end(body);
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const target = req.headers['x-amz-target'];
      const operation = operationOf(Array.isArray(target) ? target[0] : target);
      const fault = options.faults.pick<DynamoFault>(`dynamo.${operation}`, rules[operation] ?? rules['*']);
      if (!fault) {
        forward(req, res, body);
        return;
      }
      const { status, body: payload } = dynamoErrorAnswer(fault);
      res.writeHead(status, {
        'content-type': 'application/x-amz-json-1.0',
        'content-length': String(Buffer.byteLength(payload)),
        'x-amzn-requestid': randomBytes(24).toString('hex').toUpperCase().slice(0, 52),
      });
      res.end(payload);
    });
  });
  const port = await listen(server, options.port ?? 0, '127.0.0.1');
  return {
    endpoint: `http://127.0.0.1:${port}`,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      agent.destroy();
      await closed;
    },
  };
};
