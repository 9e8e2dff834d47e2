/**
 * The whole deployment, derived from the route table (shared/config/routes.ts) and the table definition
 * (shared/config/table.ts): adding a route there adds its function, route and grants here.
 */
import { join } from 'node:path';
import { Annotations, CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3n from 'aws-cdk-lib/aws-s3-notifications';
import {
  bucketConsumers,
  deployedHttpRoutes,
  functionId,
  streamConsumers,
  wsRoutes,
} from '../shared/config/routes.ts';
import { ChatApis } from './constructs/apis.ts';
import { type ChatConfig, CONTEXT_KEYS, readConfig } from './constructs/config.ts';
import { ChatData } from './constructs/data.ts';
import { ChatFunction, type FunctionEnvironment, type FunctionRoute } from './constructs/functions.ts';
import { attachStreamConsumer } from './constructs/streams.ts';
import { acknowledge } from './constructs/nag.ts';
import { ChatWeb } from './constructs/web.ts';

export interface ChatStackProps extends StackProps {
  /** Absolute path of the repository root (handler paths and `web/` are relative to it). */
  readonly projectRoot: string;
  /** Overrides the configuration read from CDK context. */
  readonly config?: ChatConfig;
}

export class ChatStack extends Stack {
  readonly config: ChatConfig;
  readonly data: ChatData;
  readonly apis: ChatApis;
  readonly web: ChatWeb;
  /** Every function, keyed by `functionId(route)`. */
  readonly functions = new Map<string, ChatFunction>();

  constructor(scope: Construct, id: string, props: ChatStackProps) {
    super(scope, id, props);
    this.config = props.config ?? readConfig(this);
    const { auth, corsOrigins } = this.config;
    if (this.config.authIsPlaceholder) {
      Annotations.of(this).addWarningV2(
        'serverless-chat:placeholderAuth',
        `No "${CONTEXT_KEYS.auth}" context: using the placeholder identity provider ${auth.issuer}. Set it before deploying (docs/deploy.md).`,
      );
    }

    this.data = new ChatData(this, 'Data', {
      corsOrigins,
      indexedMetadataKeys: this.config.indexedMetadataKeys,
      pendingMetadataKey: this.config.pendingMetadataKey,
    });
    this.apis = new ChatApis(this, 'Apis', {
      corsOrigins,
      throttle: this.config.throttle,
      routeThrottles: this.config.limits.routeThrottles,
      apiGatewayLogsRole: this.config.apiGatewayLogsRole,
    });
    const authSecret = auth.secretArn
      ? secretsmanager.Secret.fromSecretCompleteArn(this, 'AuthSecret', auth.secretArn)
      : undefined;

    const environment: FunctionEnvironment = {
      POWERTOOLS_SERVICE_NAME: 'serverless-chat',
      POWERTOOLS_METRICS_NAMESPACE: 'ServerlessChat',
      TABLE_NAME: this.data.table.tableName,
      // The keys the table has GSIs for, from the same context value (so they cannot drift).
      INDEXED_METADATA_KEYS: this.data.indexedMetadataKeys.join(','),
      WS_MANAGEMENT_ENDPOINT: this.apis.webSocketManagementUrl,
      WS_PUBLIC_URL: this.apis.webSocketUrl,
      AUTH_ISSUER: auth.issuer,
      AUTH_AUDIENCE: auth.audience,
      ...(auth.jwksUrl ? { AUTH_JWKS_URL: auth.jwksUrl } : {}),
      ...(auth.secretArn ? { AUTH_SECRET_ARN: auth.secretArn } : {}),
      ...(auth.algorithms ? { AUTH_ALGORITHMS: auth.algorithms.join(',') } : {}),
      ...(auth.maxTokenAgeSeconds ? { AUTH_MAX_TOKEN_AGE_SECONDS: String(auth.maxTokenAgeSeconds) } : {}),
      ...(auth.tokenType ? { AUTH_TOKEN_TYPE: auth.tokenType } : {}),
      VISITOR_SECRET_ARN: this.data.visitorSecret.secretArn,
      ATTACHMENTS_BUCKET: this.data.attachmentsBucket.bucketName,
      // Quotas and the long-poll bound the context sets (the functions' defaults otherwise).
      ...this.config.limits.quotaEnvironment,
    };

    const functions = new Construct(this, 'Functions');
    const make = (route: FunctionRoute): ChatFunction => {
      const created = new ChatFunction(functions, route, {
        projectRoot: props.projectRoot,
        environment,
        data: this.data,
        webSocketApi: this.apis.webSocketApi,
        webSocketStageName: this.apis.webSocketStageName,
        reservedConcurrency: this.config.limits.reservedConcurrency,
        systemLogLevel: this.config.systemLogLevel,
        ...(authSecret ? { authSecret } : {}),
      });
      if (this.functions.has(created.node.id)) throw new Error(`duplicate function id ${created.node.id}`);
      this.functions.set(created.node.id, created);
      return created;
    };

    for (const route of wsRoutes) {
      this.apis.addWebSocketRoute(route, make(route).fn, functionId(route));
    }
    for (const route of deployedHttpRoutes()) {
      this.apis.addHttpRoute(route, make(route).fn, functionId(route));
    }
    for (const consumer of streamConsumers) {
      const created = make(consumer);
      attachStreamConsumer(created, consumer, created.fn, this.data.table);
    }
    for (const consumer of bucketConsumers) {
      this.data.attachmentsBucket.addEventNotification(
        s3.EventType.OBJECT_CREATED,
        new s3n.LambdaDestination(make(consumer).fn),
        { prefix: consumer.prefix },
      );
    }
    if (bucketConsumers.length > 0) this.acknowledgeNotificationsHandler();

    this.web = new ChatWeb(this, 'Web', {
      webDir: join(props.projectRoot, 'web'),
      logsBucket: this.data.logsBucket,
      attachmentsBucket: this.data.attachmentsBucket,
      runtimeConfig: {
        // Same keys as the local cloud's /config.json (infra/local/cloud.ts); no dev tokens in AWS.
        httpUrl: this.apis.httpApiUrl,
        wsUrl: this.apis.webSocketUrl,
        tenantId: this.config.widgetTenant,
        devTokens: false,
      },
      connectSources: [
        this.apis.httpApiUrl,
        this.apis.webSocketUrl,
        `https://${this.data.attachmentsBucket.bucketRegionalDomainName}`,
      ],
    });

    // Download URLs point at the distribution, which adds nosniff (see ChatWeb).
    for (const created of this.functions.values()) {
      if (created.route.permissions.includes('attachments:read')) {
        created.fn.addEnvironment(
          'ATTACHMENTS_DOWNLOAD_BASE',
          `https://${this.web.distribution.distributionDomainName}`,
        );
      }
    }

    const output = (name: string, value: string, description: string) =>
      new CfnOutput(this, name, { value, description });
    output('HttpApiUrl', this.apis.httpApiUrl, 'HTTP API base URL (routes start with /v1)');
    output('WebSocketUrl', this.apis.webSocketUrl, 'WebSocket URL clients connect to with ?ticket=');
    output('WebSocketManagementUrl', this.apis.webSocketManagementUrl, '@connections management endpoint');
    output(
      'WebUrl',
      `https://${this.web.distribution.distributionDomainName}`,
      'Demo and console (CloudFront)',
    );
    output('TableName', this.data.table.tableName, 'DynamoDB table');
    output('AttachmentsBucketName', this.data.attachmentsBucket.bucketName, 'Attachments bucket');
  }

  /**
   * aws-cdk-lib configures bucket notifications with a singleton Lambda of its own (code, role and
   * runtime are aws-cdk-lib's); its findings are acknowledged on that handler only.
   */
  private acknowledgeNotificationsHandler(): void {
    const handlers = this.node.children.filter((child) =>
      child.node.id.startsWith('BucketNotificationsHandler'),
    );
    if (handlers.length === 0) throw new Error('BucketNotificationsHandler not found');
    const owner =
      'Handler of aws-cdk-lib’s bucket-notification custom resource, run by CloudFormation at deploy time:';
    const reasons: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': `${owner} CloudWatch Logs only.`,
      'AwsSolutions-IAM5[Resource::*]': `${owner} s3:PutBucketNotification is granted by aws-cdk-lib on Resource::*.`,
      'AwsSolutions-L1': `${owner} its runtime is chosen and upgraded by aws-cdk-lib.`,
      'Serverless-LambdaLatestVersion': `${owner} its runtime is chosen and upgraded by aws-cdk-lib.`,
      'Serverless-LambdaDLQ': `${owner} invoked synchronously by CloudFormation during deployments only.`,
      'Serverless-LambdaTracing': `${owner} runs only during deployments; its logs suffice.`,
      'Serverless-LambdaDefaultMemorySize': `${owner} its memory size is aws-cdk-lib's choice.`,
    };
    for (const handler of handlers) {
      for (const [ruleId, reason] of Object.entries(reasons)) acknowledge(handler, ruleId, reason);
    }
  }
}
