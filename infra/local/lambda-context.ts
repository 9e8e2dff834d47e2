/**
 * A fake Lambda `Context`, shaped like the one the Node.js runtime passes to a handler, so handler code
 * that reads `awsRequestId`, `functionName` or `getRemainingTimeInMillis()` runs unchanged locally.
 */
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';

export interface LambdaContextOptions {
  readonly functionName: string;
  /** The function's timeout; `getRemainingTimeInMillis()` counts down from it. Defaults to 10 s. */
  readonly timeoutMs?: number;
  readonly memoryMb?: number;
  readonly region?: string;
  readonly accountId?: string;
  readonly awsRequestId?: string;
}

export const LOCAL_ACCOUNT_ID = '000000000000';
export const LOCAL_REGION = 'us-east-1';

const notSupported = (name: string) => (): void => {
  throw new Error(
    `context.${name}() is deprecated and not supported by the local cloud; return a value instead`,
  );
};

export const createLambdaContext = (options: LambdaContextOptions): Context => {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const region = options.region ?? LOCAL_REGION;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const deadline = Date.now() + timeoutMs;
  const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: options.functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:${accountId}:function:${options.functionName}`,
    memoryLimitInMB: String(options.memoryMb ?? 1024),
    awsRequestId: options.awsRequestId ?? randomUUID(),
    logGroupName: `/aws/lambda/${options.functionName}`,
    logStreamName: `${day}/[$LATEST]${randomUUID().replaceAll('-', '')}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: notSupported('done'),
    fail: notSupported('fail'),
    succeed: notSupported('succeed'),
  };
};
