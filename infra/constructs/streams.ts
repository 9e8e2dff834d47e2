/**
 * Wires each stream consumer of the route table to the table stream: filtered, batched, with partial
 * batch responses, bisect-on-error and an encrypted SQS queue catching records that still fail.
 */
import { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sources from 'aws-cdk-lib/aws-lambda-event-sources';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { StreamConsumer } from '../../shared/config/routes.ts';
import { acknowledge } from './nag.ts';

export const attachStreamConsumer = (
  scope: Construct,
  consumer: StreamConsumer,
  fn: lambda.IFunction,
  table: dynamodb.ITable,
): sqs.Queue => {
  const failures = new sqs.Queue(scope, 'Failures', {
    encryption: sqs.QueueEncryption.SQS_MANAGED,
    enforceSSL: true,
    retentionPeriod: Duration.days(14),
  });
  const reason = `Terminal on-failure destination of the ${consumer.name} stream mapping (it holds failed-batch metadata for inspection and replay); it has no consumer, so no redrive.`;
  acknowledge(failures, 'AwsSolutions-SQS3', reason);
  acknowledge(failures, 'Serverless-SQSRedrivePolicy', reason);

  acknowledge(
    scope,
    'AwsSolutions-IAM5[Resource::*]',
    'dynamodb:ListStreams (added by DynamoEventSource) has no resource-level permissions; reading the stream itself is scoped to the table stream ARN.',
  );
  fn.addEventSource(
    new sources.DynamoEventSource(table, {
      startingPosition: lambda.StartingPosition.LATEST,
      batchSize: consumer.batchSize,
      maxBatchingWindow: Duration.seconds(consumer.maxBatchingWindowSeconds),
      bisectBatchOnError: true,
      reportBatchItemFailures: true,
      retryAttempts: consumer.retryAttempts,
      maxRecordAge: Duration.seconds(consumer.maxRecordAgeSeconds),
      parallelizationFactor: consumer.parallelizationFactor,
      ...(consumer.tumblingWindowSeconds
        ? { tumblingWindow: Duration.seconds(consumer.tumblingWindowSeconds) }
        : {}),
      filters: consumer.filters.map((pattern) => lambda.FilterCriteria.filter(pattern)),
      onFailure: new sources.SqsDlq(failures),
    }),
  );
  return failures;
};
