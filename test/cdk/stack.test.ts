/**
 * The CDK stack, asserted against the route table and table definition it is built from.
 * Most tests synthesize against stub handler files with bundling skipped (fast, independent of the
 * handlers' code); one test bundles real handlers with NodejsFunction and the stack's esbuild options.
 */
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App, type CfnElement, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as nodejs from 'aws-cdk-lib/aws-lambda-nodejs';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { describe, expect, it } from 'vitest';
import { tempDirs } from '../support/temp-dir.ts';
import { STUB_LOADER, writeStubProject } from './stub-project.ts';
import { type BuildAppOptions, buildApp, PROJECT_ROOT } from '../../infra/build-app.ts';
import { LAMBDA_BUNDLING } from '../../infra/constructs/bundling.ts';
import { ESM_REQUIRE_BANNER } from '../../infra/constructs/functions.ts';
import type { ChatStack } from '../../infra/stack.ts';
import { envNames } from '../../shared/config/env.ts';
import {
  deployedHttpRoutes,
  functionId,
  bucketConsumers,
  streamConsumers,
  wsRoutes,
} from '../../shared/config/routes.ts';
import { tableDefinition } from '../../shared/config/table.ts';

type Resources = Record<string, { Type: string; Properties: Record<string, unknown> }>;
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

const AUTH_CONTEXT = {
  issuer: 'https://id.example.org/',
  audience: 'chat-tests',
  jwksUrl: 'https://id.example.org/.well-known/jwks.json',
};
const AUTH_SECRET_ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:chat-auth-AbCdEf';
const NO_BUNDLING = { 'aws:cdk:bundling-stacks': [] };
/** Make `app.synth()` throw with the validation report (as under a test runner) whatever NODE_ENV is. */
const IN_MEMORY = { '@aws-cdk/core:appMode': 'inmemory' };

const deployedRoutes = [...deployedHttpRoutes(), ...wsRoutes, ...streamConsumers, ...bucketConsumers];

const tempDir = tempDirs();

const STUB_ROOT = writeStubProject(tempDir('chat-cdk-'));

const synthStack = (options: BuildAppOptions = {}) => {
  const outdir = options.outdir ?? tempDir('chat-cdk-out-');
  const { stack } = buildApp({
    projectRoot: STUB_ROOT,
    outdir,
    ...options,
    context: { ...NO_BUNDLING, ...IN_MEMORY, auth: AUTH_CONTEXT, ...options.context },
  });
  const template = Template.fromStack(stack);
  const raw = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties?: Record<string, unknown> }
  >;
  const resources: Resources = Object.fromEntries(
    Object.entries(raw).map(([id, resource]) => [
      id,
      { Type: resource.Type, Properties: resource.Properties ?? {} },
    ]),
  );
  return { stack, template, resources, outdir };
};

const logicalId = (stack: Stack, element: unknown): string => stack.getLogicalId(element as CfnElement);
const functionLogicalId = (stack: ChatStack, id: string): string => {
  const created = stack.functions.get(id);
  if (!created) throw new Error(`no function ${id}`);
  return logicalId(stack, created.fn.node.defaultChild);
};
const roleLogicalId = (stack: ChatStack, id: string): string => {
  const created = stack.functions.get(id);
  if (!created) throw new Error(`no function ${id}`);
  return logicalId(stack, created.role.node.defaultChild);
};

/** Every IAM statement attached to a role through AWS::IAM::Policy resources. */
const statementsOfRole = (resources: Resources, roleId: string): Statement[] =>
  Object.values(resources)
    .filter((resource) => resource.Type === 'AWS::IAM::Policy')
    .filter((resource) => JSON.stringify(resource.Properties.Roles) === JSON.stringify([{ Ref: roleId }]))
    .flatMap((resource) => (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement);
const actionsOf = (statements: Statement[]): string[] =>
  statements.flatMap((statement) =>
    Array.isArray(statement.Action) ? statement.Action : [statement.Action],
  );

const ofType = (resources: Resources, type: string) =>
  Object.entries(resources).filter(([, resource]) => resource.Type === type);

describe('ChatStack', () => {
  // Prepare (shared): one synthesis of the whole stack, bundling skipped.
  const { stack, template, resources, outdir } = synthStack();

  describe('table', () => {
    it('builds the table from tableDefinition: keys, GSIs with their projections, PITR, stream, TTL, on-demand, encrypted, retained', () => {
      // Prepare
      const expectedIndexes = tableDefinition.globalIndexes.map((index) => ({
        IndexName: index.indexName,
        KeySchema: [
          { AttributeName: index.partitionKey, KeyType: 'HASH' },
          { AttributeName: index.sortKey, KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: index.projection },
      }));

      // Act
      const tables = template.findResources('AWS::DynamoDB::Table');

      // Assess
      expect(Object.keys(tables)).toHaveLength(1);
      template.hasResource('AWS::DynamoDB::Table', {
        DeletionPolicy: 'Retain',
        UpdateReplacePolicy: 'Retain',
        Properties: {
          KeySchema: [
            { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
            { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
          ],
          BillingMode: 'PAY_PER_REQUEST',
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
          StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
          TimeToLiveSpecification: { AttributeName: tableDefinition.ttlAttribute, Enabled: true },
          SSESpecification: { SSEEnabled: true },
          GlobalSecondaryIndexes: expectedIndexes,
        },
      });
    });
  });

  describe('functions', () => {
    const appFunctions = () =>
      ofType(resources, 'AWS::Lambda::Function').filter(
        ([, resource]) =>
          (resource.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables
            ?.TABLE_NAME !== undefined,
      );

    it('creates exactly one function per deployed HTTP route, WebSocket route and stream consumer', () => {
      // Prepare
      const expectedIds = deployedRoutes.map((route) => functionId(route)).sort();

      // Act
      const functions = appFunctions();

      // Assess
      expect(functions).toHaveLength(deployedRoutes.length);
      expect([...stack.functions.keys()].sort()).toEqual(expectedIds);
      expect(stack.functions.has(functionId({ handler: 'functions/http/dev-token.ts' }))).toBe(false);
    });

    it('runs every function on nodejs22.x / arm64 with the memory and timeout of its route', () => {
      // Prepare
      const expectations = deployedRoutes.map((route) => ({
        id: functionLogicalId(stack, functionId(route)),
        memory: route.memoryMb ?? 256,
        timeout: route.timeoutSeconds ?? 10,
      }));

      // Act
      const functions = Object.fromEntries(appFunctions());

      // Assess
      for (const { id, memory, timeout } of expectations) {
        expect(functions[id]?.Properties).toMatchObject({
          Runtime: 'nodejs22.x',
          Architectures: ['arm64'],
          Handler: 'index.handler',
          MemorySize: memory,
          Timeout: timeout,
        });
      }
    });

    it('gives every function the app configuration from shared/config/env.ts and nothing unknown', () => {
      // Prepare
      const required = [
        'TABLE_NAME',
        'WS_MANAGEMENT_ENDPOINT',
        'WS_PUBLIC_URL',
        'AUTH_ISSUER',
        'AUTH_AUDIENCE',
        'AUTH_JWKS_URL',
        'VISITOR_SECRET_ARN',
      ];
      const tooling = ['POWERTOOLS_SERVICE_NAME', 'POWERTOOLS_METRICS_NAMESPACE', 'ATTACHMENTS_BUCKET'];
      const known = new Set<string>([...envNames, ...tooling]);

      // Act
      const environments = appFunctions().map(
        ([, resource]) =>
          (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
      );

      // Assess
      for (const variables of environments) {
        expect(Object.keys(variables)).toEqual(expect.arrayContaining([...required, ...tooling]));
        expect(Object.keys(variables).filter((name) => !known.has(name))).toEqual([]);
        // Source maps are shipped, not applied at runtime: --enable-source-maps slows every cold start.
        expect(variables.NODE_OPTIONS).toBeUndefined();
        expect(variables.AUTH_ISSUER).toBe(AUTH_CONTEXT.issuer);
        expect(variables.AUTH_AUDIENCE).toBe(AUTH_CONTEXT.audience);
        expect(variables.AUTH_JWKS_URL).toBe(AUTH_CONTEXT.jwksUrl);
        // CORS is the HTTP API's alone (corsPreflight): functions get no origins of their own.
        expect(variables.CORS_ORIGINS).toBeUndefined();
      }
    });

    it('builds the WebSocket URLs from the API id and stage name, so functions do not depend on the stage', () => {
      // Prepare
      const apiId = logicalId(stack, stack.apis.webSocketApi.node.defaultChild);
      const url = (scheme: string) => ({
        'Fn::Join': [
          '',
          [
            `${scheme}://`,
            { Ref: apiId },
            '.execute-api.',
            { Ref: 'AWS::Region' },
            '.',
            { Ref: 'AWS::URLSuffix' },
            `/${stack.apis.webSocketStageName}`,
          ],
        ],
      });

      // Act
      const environments = appFunctions().map(
        ([, resource]) =>
          (resource.Properties.Environment as { Variables: Record<string, unknown> }).Variables,
      );

      // Assess
      for (const variables of environments) {
        expect(variables.WS_MANAGEMENT_ENDPOINT).toEqual(url('https'));
        expect(variables.WS_PUBLIC_URL).toEqual(url('wss'));
      }
    });

    it('writes each function’s logs to its own log group with a retention period', () => {
      // Prepare
      const functions = appFunctions();

      // Act
      const logGroupIds = functions.map(
        ([, resource]) => (resource.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref,
      );

      // Assess
      expect(new Set(logGroupIds).size).toBe(functions.length);
      for (const id of logGroupIds) {
        expect(resources[id]?.Type).toBe('AWS::Logs::LogGroup');
        expect(resources[id]?.Properties?.RetentionInDays).toBe(30);
      }
    });

    it('logs in JSON with Lambda’s own lines at WARN by default, and at the level the context names', () => {
      // Prepare
      const levelsOf = (template: Resources) =>
        new Set(
          ofType(template, 'AWS::Lambda::Function')
            .filter(
              ([, resource]) =>
                (resource.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
                  ?.Variables?.TABLE_NAME !== undefined,
            )
            .map(([, resource]) => {
              const config = resource.Properties.LoggingConfig as {
                LogFormat?: string;
                SystemLogLevel?: string;
              };
              return `${config.LogFormat}/${config.SystemLogLevel}`;
            }),
        );

      // Act
      const byDefault = levelsOf(resources);
      const withInfo = levelsOf(synthStack({ context: { systemLogLevel: 'info' } }).resources);

      // Assess
      expect([...byDefault]).toEqual(['JSON/WARN']);
      expect([...withInfo]).toEqual(['JSON/INFO']);
      expect(() => synthStack({ context: { systemLogLevel: 'TRACE' } })).toThrow(
        /"systemLogLevel" must be one of DEBUG, INFO, WARN/,
      );
    });
  });

  describe('HTTP API', () => {
    it('has one route per deployed HTTP route and never the local-only /v1/dev/tokens', () => {
      // Prepare
      const expected = deployedHttpRoutes()
        .map((route) => `${route.method} ${route.path}`)
        .sort();

      // Act
      const routeKeys = ofType(resources, 'AWS::ApiGatewayV2::Route')
        .map(([, resource]) => resource.Properties.RouteKey as string)
        .filter((key) => key.includes(' '))
        .sort();

      // Assess
      expect(routeKeys).toEqual(expected);
      expect(routeKeys.some((key) => key.includes('/v1/dev/tokens'))).toBe(false);
      expect(JSON.stringify(template.toJSON())).not.toContain('dev-token');
    });

    it('allows CORS preflight from the configured origins with the expected headers and methods', () => {
      // Prepare
      const origins = ['https://app.example.com', 'https://admin.example.com'];

      // Act
      const { template: withOrigins } = synthStack({ context: { corsOrigins: origins.join(',') } });

      // Assess
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: { AllowOrigins: ['*'] },
      });
      withOrigins.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'HTTP',
        CorsConfiguration: {
          AllowOrigins: origins,
          AllowHeaders: ['authorization', 'content-type'],
          AllowMethods: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
          MaxAge: 3600,
        },
      });
    });

    it('serves a $default stage that auto-deploys, is throttled and writes JSON access logs', () => {
      // Act + Assess
      template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
        StageName: '$default',
        AutoDeploy: true,
        DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
        AccessLogSettings: {
          DestinationArn: Match.anyValue(),
          Format: Match.stringLikeRegexp('"requestId":"\\$context.requestId"'),
        },
      });
    });
  });

  describe('WebSocket API', () => {
    const wsApiId = () => logicalId(stack, stack.apis.webSocketApi.node.defaultChild);

    it('selects routes on $request.body.action and has exactly the routes of wsRoutes', () => {
      // Prepare
      const expected = wsRoutes.map((route) => route.routeKey).sort();

      // Act
      const routeKeys = ofType(resources, 'AWS::ApiGatewayV2::Route')
        .filter(
          ([, resource]) => JSON.stringify(resource.Properties.ApiId) === JSON.stringify({ Ref: wsApiId() }),
        )
        .map(([, resource]) => resource.Properties.RouteKey as string)
        .sort();

      // Assess
      template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
        ProtocolType: 'WEBSOCKET',
        RouteSelectionExpression: '$request.body.action',
      });
      expect(routeKeys).toEqual(expected);
    });

    it('returns the integration response to the caller on two-way routes only', () => {
      // Prepare
      const routeKeyById = new Map(
        ofType(resources, 'AWS::ApiGatewayV2::Route').map(([id, resource]) => [
          id,
          resource.Properties.RouteKey as string,
        ]),
      );
      const twoWay = wsRoutes
        .filter((route) => route.twoWay)
        .map((route) => route.routeKey)
        .sort();

      // Act
      const responded = ofType(resources, 'AWS::ApiGatewayV2::RouteResponse')
        .map(([, resource]) => {
          expect(resource.Properties.RouteResponseKey).toBe('$default');
          return routeKeyById.get((resource.Properties.RouteId as { Ref: string }).Ref);
        })
        .sort();

      // Assess
      expect(responded).toEqual(twoWay);
      expect(responded).not.toContain('$connect');
      expect(responded).not.toContain('$disconnect');
    });

    it('deploys an auto-deployed, throttled stage with access logs behind the account logging role', () => {
      // Act + Assess
      template.hasResource('AWS::ApiGatewayV2::Stage', {
        Properties: {
          ApiId: { Ref: wsApiId() },
          StageName: stack.apis.webSocketStageName,
          AutoDeploy: true,
          DefaultRouteSettings: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
          AccessLogSettings: {
            DestinationArn: Match.anyValue(),
            Format: Match.stringLikeRegexp('connectionId'),
          },
        },
        DependsOn: Match.arrayWith([Match.stringLikeRegexp('ApiGatewayAccount')]),
      });
      template.resourceCountIs('AWS::ApiGateway::Account', 1);
    });

    it('can leave the account-level API Gateway logging role alone', () => {
      // Act
      const { template: without } = synthStack({ context: { apiGatewayLogsRole: 'false' } });

      // Assess
      without.resourceCountIs('AWS::ApiGateway::Account', 0);
    });
  });

  describe('stream consumers', () => {
    it('maps each consumer to the table stream with its batching, retries, bisect, partial failures, filters and tumbling window', () => {
      // Prepare
      const tableId = logicalId(stack, stack.data.table.node.defaultChild);

      for (const consumer of streamConsumers) {
        // Act + Assess
        template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
          FunctionName: { Ref: functionLogicalId(stack, functionId(consumer)) },
          EventSourceArn: { 'Fn::GetAtt': [tableId, 'StreamArn'] },
          StartingPosition: 'LATEST',
          BatchSize: consumer.batchSize,
          MaximumBatchingWindowInSeconds: consumer.maxBatchingWindowSeconds,
          BisectBatchOnFunctionError: true,
          FunctionResponseTypes: ['ReportBatchItemFailures'],
          MaximumRetryAttempts: consumer.retryAttempts,
          MaximumRecordAgeInSeconds: consumer.maxRecordAgeSeconds,
          ParallelizationFactor: consumer.parallelizationFactor,
          TumblingWindowInSeconds: consumer.tumblingWindowSeconds ?? Match.absent(),
          FilterCriteria: {
            Filters: consumer.filters.map((pattern) => ({ Pattern: JSON.stringify(pattern) })),
          },
          DestinationConfig: { OnFailure: { Destination: { 'Fn::GetAtt': [Match.anyValue(), 'Arn'] } } },
        });
      }
      template.resourceCountIs('AWS::Lambda::EventSourceMapping', streamConsumers.length);
      // The fan-out writes the stats counters once a minute, at its window's end.
      expect(streamConsumers.find(({ name }) => name === 'fanout')?.tumblingWindowSeconds).toBe(60);
    });

    it('sends records that keep failing to an encrypted, SSL-only SQS queue', () => {
      // Prepare
      const destinations = ofType(resources, 'AWS::Lambda::EventSourceMapping').map(
        ([, resource]) =>
          (
            resource.Properties.DestinationConfig as {
              OnFailure: { Destination: { 'Fn::GetAtt': [string] } };
            }
          ).OnFailure.Destination['Fn::GetAtt'][0],
      );

      // Act
      const queues = destinations.map((id) => resources[id]);
      const queuePolicies = ofType(resources, 'AWS::SQS::QueuePolicy').map(([, resource]) =>
        JSON.stringify(resource.Properties),
      );

      // Assess
      for (const [index, queue] of queues.entries()) {
        expect(queue?.Type).toBe('AWS::SQS::Queue');
        expect(queue?.Properties?.SqsManagedSseEnabled).toBe(true);
        const policy = queuePolicies.find((text) => text.includes(`"${destinations[index]}"`));
        expect(policy).toContain('"aws:SecureTransport":"false"');
        expect(policy).toContain('"Effect":"Deny"');
      }
    });
  });

  describe('least privilege', () => {
    it('gives the ping function no DynamoDB, secret or @connections permission', () => {
      // Prepare
      const pingId = functionId(wsRoutes.find((route) => route.routeKey === 'ping') ?? { handler: '' });

      // Act
      const actions = actionsOf(statementsOfRole(resources, roleLogicalId(stack, pingId)));

      // Assess
      expect(actions.filter((action) => action.startsWith('dynamodb:'))).toEqual([]);
      expect(actions.filter((action) => action.startsWith('secretsmanager:'))).toEqual([]);
      expect(actions).not.toContain('execute-api:ManageConnections');
      expect(actions.every((action) => action.startsWith('logs:'))).toBe(true);
    });

    it('grants execute-api:ManageConnections only to connections:post functions, scoped to this stage', () => {
      // Prepare
      const expected = deployedRoutes
        .filter((route) => route.permissions.includes('connections:post'))
        .map((route) => functionId(route))
        .sort();

      // Act
      const granted = deployedRoutes
        .map((route) => functionId(route))
        .filter((id) =>
          actionsOf(statementsOfRole(resources, roleLogicalId(stack, id))).includes(
            'execute-api:ManageConnections',
          ),
        )
        .sort();
      const resourcesGranted = Object.values(resources)
        .filter((resource) => resource.Type === 'AWS::IAM::Policy')
        .flatMap((resource) => (resource.Properties.PolicyDocument as { Statement: Statement[] }).Statement)
        .filter((statement) => actionsOf([statement]).includes('execute-api:ManageConnections'))
        .map((statement) => JSON.stringify(statement.Resource));

      // Assess
      expect(granted).toEqual(expected);
      for (const resource of resourcesGranted) {
        expect(resource).toContain(`/${stack.apis.webSocketStageName}/*/@connections/*`);
        expect(resource).not.toBe('"*"');
      }
    });

    it('gives table writes only to table:write functions and table reads only to table:read functions', () => {
      for (const route of deployedRoutes) {
        // Act
        const actions = actionsOf(statementsOfRole(resources, roleLogicalId(stack, functionId(route))));

        // Assess
        expect(actions.includes('dynamodb:PutItem'), `${functionId(route)} PutItem`).toBe(
          route.permissions.includes('table:write'),
        );
        expect(actions.includes('dynamodb:Query'), `${functionId(route)} Query`).toBe(
          route.permissions.includes('table:read'),
        );
      }
    });

    it('grants the visitor secret only to secret:visitor functions', () => {
      // Prepare
      const secretId = logicalId(stack, stack.data.visitorSecret.node.defaultChild);

      for (const route of deployedRoutes) {
        // Act
        const readsSecret = statementsOfRole(resources, roleLogicalId(stack, functionId(route))).some(
          (statement) =>
            actionsOf([statement]).includes('secretsmanager:GetSecretValue') &&
            JSON.stringify(statement.Resource) === JSON.stringify({ Ref: secretId }),
        );

        // Assess
        expect(readsSecret, functionId(route)).toBe(route.permissions.includes('secret:visitor'));
      }
    });

    it('grants the host identity provider secret only when configured, and only to secret:auth functions', () => {
      // Prepare
      const withSecret = synthStack({
        context: {
          auth: JSON.stringify({ ...AUTH_CONTEXT, jwksUrl: undefined, secretArn: AUTH_SECRET_ARN }),
        },
      });

      for (const route of deployedRoutes) {
        // Act
        const readsWhenConfigured = statementsOfRole(
          withSecret.resources,
          roleLogicalId(withSecret.stack, functionId(route)),
        ).some((statement) => JSON.stringify(statement.Resource) === JSON.stringify(AUTH_SECRET_ARN));

        // Assess
        expect(readsWhenConfigured, functionId(route)).toBe(route.permissions.includes('secret:auth'));
      }
      expect(JSON.stringify(template.toJSON())).not.toContain('AUTH_SECRET_ARN');
      withSecret.template.hasResourceProperties('AWS::Lambda::Function', {
        Environment: { Variables: Match.objectLike({ AUTH_SECRET_ARN }) },
      });
    });
  });

  describe('attachment grants', () => {
    it('gives exact object actions under one prefix per permission, and none to other functions', () => {
      // Prepare
      const attachmentsId = logicalId(stack, stack.data.attachmentsBucket.node.defaultChild);
      const s3Statements = (fn: string) =>
        Object.values(resources)
          .filter((r) => r.Type === 'AWS::IAM::Policy')
          .filter((r) => JSON.stringify(r.Properties?.Roles).includes(fn))
          .flatMap(
            (r) =>
              (r.Properties?.PolicyDocument as { Statement: { Action: unknown; Resource: unknown }[] })
                .Statement,
          )
          .filter((statement) => JSON.stringify(statement.Action).includes('s3:'))
          .map((statement) => ({ action: statement.Action, resource: JSON.stringify(statement.Resource) }));
      const roleOf = (id: string) => logicalId(stack, stack.functions.get(id)?.role.node.defaultChild);

      // Assess
      expect(s3Statements(roleOf('http-create-attachment'))).toEqual([
        {
          action: 's3:PutObject',
          resource: expect.stringMatching(new RegExp(`${attachmentsId}.*/pending/\\*`)),
        },
      ]);
      expect(s3Statements(roleOf('http-get-attachment'))).toEqual([
        { action: 's3:GetObject', resource: expect.stringMatching(/\/files\/\*/) },
      ]);
      expect(s3Statements(roleOf('s3-attachment-uploaded'))).toEqual([
        { action: ['s3:GetObject', 's3:DeleteObject'], resource: expect.stringMatching(/\/pending\/\*/) },
        { action: 's3:PutObject', resource: expect.stringMatching(/\/files\/\*/) },
      ]);
      expect(s3Statements(roleOf('http-send-message'))).toEqual([]);
    });

    it('notifies the upload consumer of objects created under pending/, with an SQS on-failure destination', () => {
      template.hasResourceProperties('Custom::S3BucketNotifications', {
        NotificationConfiguration: {
          LambdaFunctionConfigurations: [
            Match.objectLike({
              Events: ['s3:ObjectCreated:*'],
              Filter: { Key: { FilterRules: [{ Name: 'prefix', Value: 'pending/' }] } },
            }),
          ],
        },
      });
      template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
        MaximumRetryAttempts: 2,
        DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      });
    });
  });

  describe('buckets', () => {
    it('blocks public access, encrypts and denies non-TLS requests on every bucket', () => {
      // Prepare
      const buckets = ofType(resources, 'AWS::S3::Bucket');
      const policies = ofType(resources, 'AWS::S3::BucketPolicy').map(([, resource]) => resource.Properties);

      // Act + Assess
      expect(buckets).toHaveLength(3);
      for (const [id, bucket] of buckets) {
        expect(bucket.Properties).toMatchObject({
          PublicAccessBlockConfiguration: {
            BlockPublicAcls: true,
            BlockPublicPolicy: true,
            IgnorePublicAcls: true,
            RestrictPublicBuckets: true,
          },
          BucketEncryption: {
            ServerSideEncryptionConfiguration: [
              { ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } },
            ],
          },
        });
        const policy = policies.find(
          (properties) => JSON.stringify(properties?.Bucket) === `{"Ref":"${id}"}`,
        );
        expect(JSON.stringify(policy)).toContain('"Condition":{"Bool":{"aws:SecureTransport":"false"}}');
      }
    });

    it('logs attachment access, expires pending/ uploads after a day and allows browser uploads', () => {
      // Prepare
      const bucketId = logicalId(stack, stack.data.attachmentsBucket.node.defaultChild);
      const logsBucketId = logicalId(stack, stack.data.logsBucket.node.defaultChild);

      // Act
      const bucket = resources[bucketId];

      // Assess
      expect(bucket?.Properties).toMatchObject({
        LoggingConfiguration: { DestinationBucketName: { Ref: logsBucketId }, LogFilePrefix: 'attachments/' },
        LifecycleConfiguration: {
          Rules: expect.arrayContaining([
            expect.objectContaining({
              AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
              Status: 'Enabled',
            }),
            expect.objectContaining({ Prefix: 'pending/', ExpirationInDays: 1, Status: 'Enabled' }),
          ]),
        },
        CorsConfiguration: {
          CorsRules: [
            expect.objectContaining({
              AllowedOrigins: ['*'],
              AllowedMethods: expect.arrayContaining(['POST']),
            }),
          ],
        },
      });
    });
  });

  describe('web', () => {
    it('serves the web bucket through CloudFront with Origin Access Control, HTTPS and security headers', () => {
      // Prepare
      const webBucketId = logicalId(stack, stack.web.bucket.node.defaultChild);

      // Act + Assess
      template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 1);
      template.hasResourceProperties('AWS::CloudFront::Distribution', {
        DistributionConfig: Match.objectLike({
          DefaultRootObject: 'index.html',
          Logging: Match.objectLike({ Bucket: Match.anyValue() }),
          Origins: Match.arrayWith([
            Match.objectLike({
              DomainName: { 'Fn::GetAtt': [webBucketId, 'RegionalDomainName'] },
              OriginAccessControlId: { 'Fn::GetAtt': [Match.anyValue(), 'Id'] },
              S3OriginConfig: { OriginAccessIdentity: '' },
            }),
          ]),
          DefaultCacheBehavior: Match.objectLike({
            ViewerProtocolPolicy: 'redirect-to-https',
            ResponseHeadersPolicyId: { Ref: logicalId(stack, stack.web.headersPolicy.node.defaultChild) },
            FunctionAssociations: [Match.objectLike({ EventType: 'viewer-request' })],
          }),
        }),
      });
      template.hasResourceProperties('AWS::S3::BucketPolicy', {
        Bucket: { Ref: webBucketId },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({
              Action: 's3:GetObject',
              Principal: { Service: 'cloudfront.amazonaws.com' },
              Condition: { StringEquals: { 'AWS:SourceArn': Match.anyValue() } },
            }),
          ]),
        },
      });
    });

    it('serves attachment downloads under /files/* uncached, with the presigned query and security headers (nosniff)', () => {
      // Prepare
      const attachmentsId = logicalId(stack, stack.data.attachmentsBucket.node.defaultChild);
      const distribution = Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::Distribution');
      const config = distribution?.Properties?.DistributionConfig as {
        Origins: { Id: string; DomainName: unknown; CustomOriginConfig?: { OriginProtocolPolicy: string } }[];
        CacheBehaviors: Record<string, unknown>[];
      };
      const origin = config.Origins.find(
        (o) =>
          JSON.stringify(o.DomainName) ===
          JSON.stringify({ 'Fn::GetAtt': [attachmentsId, 'RegionalDomainName'] }),
      );
      const policy = Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::OriginRequestPolicy');

      // Assess
      expect(origin?.CustomOriginConfig?.OriginProtocolPolicy).toBe('https-only');
      expect(config.CacheBehaviors).toEqual([
        expect.objectContaining({
          PathPattern: 'files/*',
          TargetOriginId: origin?.Id,
          ViewerProtocolPolicy: 'https-only',
          AllowedMethods: ['GET', 'HEAD'],
          CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled
          ResponseHeadersPolicyId: '67f7725c-6f97-4210-82d7-5512b31e9d03', // Managed-SecurityHeadersPolicy
        }),
      ]);
      expect(policy?.Properties?.OriginRequestPolicyConfig).toMatchObject({
        QueryStringsConfig: { QueryStringBehavior: 'all' },
        HeadersConfig: { HeaderBehavior: 'none' },
        CookiesConfig: { CookieBehavior: 'none' },
      });
    });

    it('points download URLs at the distribution, only for functions that sign downloads', () => {
      for (const created of stack.functions.values()) {
        const environment = template.toJSON().Resources[logicalId(stack, created.fn.node.defaultChild)]
          ?.Properties?.Environment?.Variables as Record<string, unknown>;
        expect(environment.ATTACHMENTS_DOWNLOAD_BASE !== undefined, created.node.id).toBe(
          created.route.permissions.includes('attachments:read'),
        );
      }
    });

    it('deploys the built site: an hour of cache, widget.js, its media module and config.json five minutes, the SDK types typed', () => {
      // Prepare
      const bucket = { Ref: logicalId(stack, stack.web.bucket.node.defaultChild) };
      const deployments = Object.values(resources).filter((r) => r.Type === 'Custom::CDKBucketDeployment');

      // Assess
      expect(deployments).toHaveLength(3);
      template.hasResourceProperties('Custom::CDKBucketDeployment', {
        DestinationBucketName: bucket,
        Prune: true,
        // Owned by the other deployments: neither uploaded nor pruned by this one.
        Exclude: [
          'widget.js',
          'widget.js.map',
          'widget-media.js',
          'widget-media.js.map',
          'config.json',
          'sdk/chat.d.ts',
        ],
        SystemMetadata: { 'cache-control': 'public, max-age=3600' },
        DistributionPaths: ['/*'],
      });
      template.hasResourceProperties('Custom::CDKBucketDeployment', {
        DestinationBucketName: bucket,
        Prune: false,
        SystemMetadata: { 'cache-control': 'public, max-age=300' },
        DistributionPaths: [
          '/widget.js',
          '/widget.js.map',
          '/widget-media.js',
          '/widget-media.js.map',
          '/config.json',
        ],
      });
      template.hasResourceProperties('Custom::CDKBucketDeployment', {
        DestinationBucketName: bucket,
        Prune: false,
        SystemMetadata: {
          'cache-control': 'public, max-age=3600',
          'content-type': 'application/typescript; charset=utf-8',
        },
        DistributionPaths: ['/sdk/chat.d.ts'],
      });
    });

    it('uploads the bundles built at synth, the pages and a complete config.json', () => {
      // Prepare
      const files = readdirSync(outdir, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => join(entry.parentPath, entry.name));
      const find = (suffix: string) => files.find((file) => file.endsWith(suffix));

      // Assess
      for (const built of [
        '/widget.js',
        '/widget.js.map',
        '/widget-media.js',
        '/sdk/chat.js',
        '/console/console.js',
        '/sdk/chat.d.ts',
      ])
        expect(find(built), built).toBeDefined();
      expect(find('/demo/index.html')).toBeDefined();
      expect(files.filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))).toEqual([]);
      expect(readFileSync(find('/widget.js') ?? '', 'utf8')).toMatch(/^\(\(\)=>\{|^"use strict";/);
      expect(readFileSync(find('/sdk/chat.d.ts') ?? '', 'utf8')).toContain('export declare const greet');
      const config = JSON.parse(readFileSync(find('/config.json') ?? '', 'utf8')) as Record<string, unknown>;
      expect(config).toMatchObject({ tenantId: 'demo', devTokens: false });
      expect(Object.keys(config).sort()).toEqual(['devTokens', 'httpUrl', 'tenantId', 'wsUrl']);
    });

    it('sends CORS for embedding, security headers and a CSP with the pages’ inline script hashes', () => {
      // Prepare
      const policy = Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::ResponseHeadersPolicy')
        ?.Properties?.ResponseHeadersPolicyConfig as {
        CorsConfig: Record<string, unknown>;
        SecurityHeadersConfig: { ContentSecurityPolicy: { ContentSecurityPolicy: unknown } } & Record<
          string,
          unknown
        >;
      };
      const csp = JSON.stringify(policy.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy);
      const hash = createHash('sha256').update(STUB_LOADER).digest('base64');

      // Assess
      expect(policy.CorsConfig).toMatchObject({
        AccessControlAllowOrigins: { Items: ['*'] },
        AccessControlAllowMethods: { Items: ['GET', 'HEAD'] },
        AccessControlAllowCredentials: false,
        OriginOverride: true,
      });
      expect(csp).toContain(`script-src 'self' 'sha256-${hash}'`);
      for (const directive of [
        "style-src 'self'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
      ])
        expect(csp).toContain(directive);
      // connect-src: the HTTP API, the WebSocket API and the attachments bucket (uploads).
      expect(csp).toContain(logicalId(stack, stack.apis.httpApi.node.defaultChild));
      expect(csp).toContain(logicalId(stack, stack.apis.webSocketApi.node.defaultChild));
      expect(csp).toContain(logicalId(stack, stack.data.attachmentsBucket.node.defaultChild));
      expect(policy.SecurityHeadersConfig).toMatchObject({
        ContentTypeOptions: { Override: true },
        FrameOptions: { FrameOption: 'DENY', Override: true },
        ReferrerPolicy: { ReferrerPolicy: 'strict-origin-when-cross-origin', Override: true },
        StrictTransportSecurity: {
          AccessControlMaxAgeSec: 31536000,
          IncludeSubdomains: true,
          Override: true,
        },
      });
    });

    it('serves the demo page at / and the console at /console, like the local cloud', () => {
      // Prepare
      const fn = Object.values(resources).find((r) => r.Type === 'AWS::CloudFront::Function');
      const code = fn?.Properties?.FunctionCode as string;
      const handler = new Function(`${code}; return handler;`)() as (event: unknown) => {
        uri?: string;
        statusCode?: number;
      };
      const request = (uri: string) => handler({ request: { uri } });

      // Assess
      expect(request('/').uri).toBe('/demo/index.html');
      expect(request('/console').uri).toBe('/console/index.html');
      expect(request('/console/').uri).toBe('/console/index.html');
      expect(request('/widget.js').uri).toBe('/widget.js');
      expect(request('/demo').statusCode).toBe(301);
    });
  });

  it('outputs the API URLs, the web URL, the table and the attachments bucket', () => {
    // Act
    const outputs = Object.keys(template.toJSON().Outputs as Record<string, unknown>);

    // Assess
    expect(outputs).toEqual(
      expect.arrayContaining([
        'HttpApiUrl',
        'WebSocketUrl',
        'WebSocketManagementUrl',
        'WebUrl',
        'TableName',
        'AttachmentsBucketName',
      ]),
    );
  });
});

describe('configuration', () => {
  it('synthesizes offline with no context, using the placeholder identity provider', () => {
    // Act
    const { stack } = buildApp({
      projectRoot: STUB_ROOT,
      outdir: tempDir('chat-cdk-out-'),
      context: NO_BUNDLING,
      nag: false,
    });

    // Assess
    expect(stack.config.authIsPlaceholder).toBe(true);
    expect(stack.config.auth.issuer).toBe('https://auth.example.com/');
    expect(stack.config.corsOrigins).toEqual(['*']);
  });

  it('takes the widget’s default tenant from the widgetTenant context key and validates it', () => {
    // Act
    const build = (widgetTenant: unknown) =>
      buildApp({
        projectRoot: STUB_ROOT,
        outdir: tempDir('chat-cdk-out-'),
        context: { ...NO_BUNDLING, widgetTenant },
        nag: false,
      }).stack.config.widgetTenant;

    // Assess
    expect(build(undefined)).toBe('demo');
    expect(build('acme-shop')).toBe('acme-shop');
    expect(() => build('Acme Shop')).toThrow(/"widgetTenant" must be a tenant id/);
  });

  it('fails with a clear error when auth has neither jwksUrl nor secretArn', () => {
    // Act
    const build = () =>
      buildApp({
        projectRoot: STUB_ROOT,
        outdir: tempDir('chat-cdk-out-'),
        context: { ...NO_BUNDLING, auth: { issuer: 'https://id.example.org/', audience: 'chat' } },
      });

    // Assess
    expect(build).toThrow(/"auth" needs either "jwksUrl".*or "secretArn"/);
  });
});

describe('cdk-nag', () => {
  const synthWithNag = (extend?: (stack: Stack) => void) => {
    const { app, stack } = buildApp({
      projectRoot: STUB_ROOT,
      outdir: tempDir('chat-cdk-nag-'),
      context: { ...NO_BUNDLING, ...IN_MEMORY, auth: AUTH_CONTEXT },
    });
    extend?.(stack);
    return app.synth();
  };

  it('finishes synthesis with no unacknowledged AwsSolutions or Serverless finding', () => {
    // Act
    const assembly = synthWithNag();
    const report = JSON.parse(readFileSync(join(assembly.directory, 'validation-report.json'), 'utf8')) as {
      pluginReports: { pluginName: string; violations: { ruleName: string }[] }[];
    };

    // Assess
    const nagViolations = report.pluginReports
      .filter((plugin) => ['AwsSolutions', 'Serverless'].includes(plugin.pluginName))
      .flatMap((plugin) => plugin.violations.map((violation) => violation.ruleName));
    expect(nagViolations).toEqual([]);
  });

  it('is wired into synthesis: an unacknowledged finding fails it', () => {
    // Prepare
    const addNonCompliantBucket = (stack: Stack) => {
      new s3.Bucket(stack, 'NonCompliant');
    };

    // Act + Assess
    expect(() => synthWithNag(addNonCompliantBucket)).toThrow(/AwsSolutions-S10/);
  });
});

describe('bundling', () => {
  it('finds a handler file under functions/ for every deployed function', () => {
    // Act
    const missing = deployedRoutes
      .map((route) => route.handler)
      .filter((handler) => !existsSync(join(PROJECT_ROOT, handler)));

    // Assess
    expect(missing).toEqual([]);
  });

  // Every handler is bundled with these same options, in one esbuild build, by the cold-start budget
  // test (test/unit/cold-bundles.test.ts); here NodejsFunction itself bundles two of them (a keep-alive
  // function and one that signs S3 requests), as `cdk synth` does for all, without Docker.
  it('bundles real handlers with the stack’s options through NodejsFunction into an ESM index.mjs with the require banner and a source map', () => {
    // Prepare
    const outdir = tempDir('chat-cdk-bundle-');
    const app = new App({ outdir, context: IN_MEMORY });
    const stack = new Stack(app, 'Bundles');
    const handlers = ['functions/ws/ping.ts', 'functions/http/create-attachment.ts'];
    for (const [index, handler] of handlers.entries()) {
      new nodejs.NodejsFunction(stack, `Fn${index}`, {
        entry: join(PROJECT_ROOT, handler),
        handler: 'handler',
        projectRoot: PROJECT_ROOT,
        depsLockFilePath: join(PROJECT_ROOT, 'package-lock.json'),
        runtime: lambda.Runtime.NODEJS_22_X,
        bundling: LAMBDA_BUNDLING,
      });
    }

    // Act
    const assembly = app.synth();

    // Assess
    const bundles = readdirSync(assembly.directory)
      .map((entry) => join(assembly.directory, entry, 'index.mjs'))
      .filter((file) => existsSync(file));
    expect(bundles).toHaveLength(handlers.length);
    for (const file of bundles) {
      const code = readFileSync(file, 'utf8');
      expect(code.startsWith(ESM_REQUIRE_BANNER)).toBe(true);
      expect(existsSync(`${file}.map`)).toBe(true);
    }
  }, 120_000);
});
