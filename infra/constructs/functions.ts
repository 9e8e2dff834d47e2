/**
 * One Lambda function per route-table entry: bundled from its handler file with esbuild as
 * `LAMBDA_BUNDLING` says (./bundling.ts: ESM, everything bundled, no Docker), its own log group and
 * its own role that holds only what `route.permissions` asks for.
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as destinations from 'aws-cdk-lib/aws-lambda-destinations';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import type { Env } from '../../shared/config/env.ts';
import { functionId, type Permission } from '../../shared/config/routes.ts';
import { ATTACHMENT_PREFIX } from '../../shared/config/storage.ts';
import type { ChatData } from './data.ts';
import { LAMBDA_BUNDLING } from './bundling.ts';
import { acknowledge, nagRef } from './nag.ts';
import { DEFAULT_SYSTEM_LOG_LEVEL, type SystemLogLevel } from './config.ts';

export { ESM_REQUIRE_BANNER } from './bundling.ts';

/** The variables the stack sets: the app's own (shared/config/env.ts) plus runtime/tooling ones. */
export type FunctionEnvironment = Partial<Record<keyof Env, string>> & {
  readonly POWERTOOLS_SERVICE_NAME: string;
  readonly POWERTOOLS_METRICS_NAMESPACE: string;
  readonly ATTACHMENTS_BUCKET: string;
};

export interface FunctionRoute {
  /** `bucket` consumers are invoked asynchronously (S3 notifications) and get a dead-letter queue. */
  readonly kind?: string;
  readonly handler: string;
  readonly permissions: readonly Permission[];
  readonly timeoutSeconds?: number;
  readonly memoryMb?: number;
}

export interface FunctionFactoryProps {
  /** Repository root; handler paths in the route table are relative to it. */
  readonly projectRoot: string;
  readonly environment: FunctionEnvironment;
  readonly data: ChatData;
  /** The WebSocket API whose @connections endpoint `connections:post` functions may call. */
  readonly webSocketApi: apigwv2.IWebSocketApi;
  readonly webSocketStageName: string;
  /** Secrets Manager secret of the host identity provider, when configured. */
  readonly authSecret?: secretsmanager.ISecret;
  /** Function id → reserved concurrent executions (./limits.ts); others share the account's pool. */
  readonly reservedConcurrency?: Readonly<Record<string, number>>;
  /** Lambda's system log level (./config.ts); the log format is JSON, which log-level filtering needs. */
  readonly systemLogLevel?: SystemLogLevel;
}

export const DEFAULT_MEMORY_MB = 256;
export const DEFAULT_TIMEOUT_SECONDS = 10;
export const LOG_RETENTION = logs.RetentionDays.ONE_MONTH;

export class ChatFunction extends Construct {
  readonly fn: nodejs.NodejsFunction;
  readonly role: iam.Role;
  readonly route: FunctionRoute;
  readonly deadLetterQueue: sqs.Queue | undefined;

  constructor(scope: Construct, route: FunctionRoute, props: FunctionFactoryProps) {
    const id = functionId(route);
    super(scope, id);
    this.route = route;

    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // A dedicated role instead of AWSLambdaBasicExecutionRole: logs go to this function's group only.
    this.role = new iam.Role(this, 'Role', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: `serverless-chat ${id}`,
    });
    logGroup.grantWrite(this.role);

    const asynchronous = route.kind === 'bucket';
    // Events that still fail after Lambda's two async retries land here instead of being dropped.
    this.deadLetterQueue = asynchronous
      ? new sqs.Queue(this, 'DeadLetters', {
          encryption: sqs.QueueEncryption.SQS_MANAGED,
          enforceSSL: true,
          retentionPeriod: Duration.days(14),
        })
      : undefined;
    if (this.deadLetterQueue) {
      const reason = `Dead-letter queue of the asynchronously invoked ${id}: failed S3 events wait here for inspection and replay; it has no consumer, so no redrive.`;
      acknowledge(this.deadLetterQueue, 'AwsSolutions-SQS3', reason);
      acknowledge(this.deadLetterQueue, 'Serverless-SQSRedrivePolicy', reason);
    }

    const reserved = props.reservedConcurrency?.[id];
    this.fn = new nodejs.NodejsFunction(this, 'Handler', {
      description: `serverless-chat ${route.handler}`,
      ...(this.deadLetterQueue
        ? { onFailure: new destinations.SqsDestination(this.deadLetterQueue), retryAttempts: 2 }
        : {}),
      entry: join(props.projectRoot, route.handler),
      handler: 'handler',
      projectRoot: props.projectRoot,
      depsLockFilePath: join(props.projectRoot, 'package-lock.json'),
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: route.memoryMb ?? DEFAULT_MEMORY_MB,
      timeout: Duration.seconds(route.timeoutSeconds ?? DEFAULT_TIMEOUT_SECONDS),
      // Reserved for (and capped at) this many: a flood elsewhere cannot take its concurrency.
      ...(reserved ? { reservedConcurrentExecutions: reserved } : {}),
      role: this.role,
      logGroup,
      // JSON: Lambda filters its own lines by level (WARN leaves out START and REPORT) and leaves lines
      // that are JSON already, the Powertools records and EMF metric lines, as they are. Application logs
      // keep Lambda's default level, INFO, under which lines without a level (EMF) are kept.
      loggingFormat: lambda.LoggingFormat.JSON,
      systemLogLevelV2: lambda.SystemLogLevel[props.systemLogLevel ?? DEFAULT_SYSTEM_LOG_LEVEL],
      environment: { ...props.environment },
      bundling: LAMBDA_BUNDLING,
    });

    this.grant(route.permissions, props);
    this.acknowledgeFindings(props);
  }

  private grant(permissions: readonly Permission[], props: FunctionFactoryProps): void {
    const { table, visitorSecret } = props.data;
    for (const permission of new Set(permissions)) {
      switch (permission) {
        case 'table:read':
          table.grantReadData(this.role);
          break;
        case 'table:write':
          table.grantWriteData(this.role);
          break;
        case 'connections:post':
          this.role.addToPrincipalPolicy(
            new iam.PolicyStatement({
              actions: ['execute-api:ManageConnections'],
              resources: [connectionsArn(this, props.webSocketApi.apiId, props.webSocketStageName)],
            }),
          );
          break;
        case 'secret:visitor':
          visitorSecret.grantRead(this.role);
          break;
        case 'secret:auth':
          props.authSecret?.grantRead(this.role);
          break;
        case 'attachments:upload':
          this.allowObjects(props, ['s3:PutObject'], ATTACHMENT_PREFIX.pending);
          break;
        case 'attachments:read':
          this.allowObjects(props, ['s3:GetObject'], ATTACHMENT_PREFIX.files);
          break;
        case 'attachments:manage':
          this.allowObjects(props, ['s3:GetObject', 's3:DeleteObject'], ATTACHMENT_PREFIX.pending);
          this.allowObjects(props, ['s3:PutObject'], ATTACHMENT_PREFIX.files);
          break;
        default: {
          const unknown: never = permission;
          throw new Error(`unknown permission ${String(unknown)}`);
        }
      }
    }
  }

  /** Exact object actions under one prefix of the attachments bucket (no bucket-level or list rights). */
  private allowObjects(props: FunctionFactoryProps, actions: string[], prefix: string): void {
    this.role.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions,
        resources: [props.data.attachmentsBucket.arnForObjects(`${prefix}*`)],
      }),
    );
    acknowledge(
      this,
      `AwsSolutions-IAM5[Resource::${nagRef(props.data.attachmentsBucket, 'Arn')}/${prefix}*]`,
      `Attachment object keys are generated per upload; the grant is limited to ${actions.join(', ')} under ${prefix} of the attachments bucket.`,
    );
  }

  private acknowledgeFindings(props: FunctionFactoryProps): void {
    const permissions = new Set(this.route.permissions);
    const runtime =
      'Pinned to Node.js 22, the target the handlers are bundled for (esbuild target node22) and tested on.';
    acknowledge(this, 'AwsSolutions-L1', runtime);
    acknowledge(this, 'Serverless-LambdaLatestVersion', runtime);
    acknowledge(
      this,
      'Serverless-LambdaDLQ',
      this.deadLetterQueue
        ? 'Asynchronous failures go to an on-failure destination (SQS), the successor of a dead-letter queue, which also records the error.'
        : 'Never invoked asynchronously: API Gateway invokes it synchronously, stream batches fail over to the event source mapping’s SQS destination.',
    );
    acknowledge(
      this,
      'Serverless-LambdaTracing',
      'X-Ray is off to keep the role free of xray:* on Resource::* and to avoid tracing cost; Powertools structured logs and metrics cover observability.',
    );
    if (permissions.has('table:read') || permissions.has('table:write')) {
      acknowledge(
        this,
        `AwsSolutions-IAM5[Resource::${nagRef(props.data.table, 'Arn')}/index/*]`,
        'Table grants cover the table’s own global secondary indexes (table/index/*), which the access patterns query.',
      );
    }
    if (permissions.has('connections:post')) {
      acknowledge(
        this,
        `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:execute-api:<AWS::Region>:<AWS::AccountId>:${nagRef(props.webSocketApi)}/${props.webSocketStageName}/*/@connections/*]`,
        'Connection ids are only known at runtime; the grant is limited to @connections of this stack’s WebSocket stage.',
      );
    }
  }
}

/** `arn:{partition}:execute-api:{region}:{account}:{apiId}/{stage}/*\/@connections/*` */
export const connectionsArn = (scope: Construct, apiId: string, stageName: string): string =>
  Stack.of(scope).formatArn({
    service: 'execute-api',
    resource: apiId,
    resourceName: `${stageName}/*/@connections/*`,
  });
