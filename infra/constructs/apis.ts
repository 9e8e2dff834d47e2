/**
 * The WebSocket API and the HTTP API. Both are created empty first (the functions need the WebSocket
 * API id for their environment), then `addWebSocketRoute` / `addHttpRoute` wire one route per entry of
 * the route table.
 */
import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as apigateway from 'aws-cdk-lib/aws-apigateway';
import * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as integrations from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import type { HttpRoute, WsRoute } from '../../shared/config/routes.ts';
import { HTTP_API_CORS } from '../../shared/http/cors.ts';
import type { ThrottleConfig } from './config.ts';
import type { LimitsConfig, RouteThrottle } from './limits.ts';
import { LOG_RETENTION } from './functions.ts';
import { acknowledge } from './nag.ts';

export const WEBSOCKET_STAGE_NAME = 'prod';

export interface ChatApisProps {
  /** The origins the HTTP API's CORS allows; the rest of the policy is shared/http/cors.ts. */
  readonly corsOrigins: readonly string[];
  readonly throttle: ThrottleConfig;
  /** Per-route throttles over the stage default, by route key (./limits.ts). */
  readonly routeThrottles?: LimitsConfig['routeThrottles'];
  /** Create the account-level role API Gateway needs to write WebSocket access logs. */
  readonly apiGatewayLogsRole: boolean;
}

/** One JSON object per WebSocket event (structured access logs). */
const WEBSOCKET_ACCESS_LOG = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    eventType: '$context.eventType',
    routeKey: '$context.routeKey',
    connectionId: '$context.connectionId',
    status: '$context.status',
    integrationStatus: '$context.integrationStatus',
    integrationLatency: '$context.integrationLatency',
    error: '$context.error.message',
    integrationError: '$context.integration.error',
  }),
);

/** One JSON object per HTTP request (structured access logs). */
const HTTP_ACCESS_LOG = apigateway.AccessLogFormat.custom(
  JSON.stringify({
    requestId: '$context.requestId',
    requestTime: '$context.requestTime',
    sourceIp: '$context.identity.sourceIp',
    userAgent: '$context.identity.userAgent',
    method: '$context.httpMethod',
    path: '$context.path',
    routeKey: '$context.routeKey',
    protocol: '$context.protocol',
    status: '$context.status',
    responseLength: '$context.responseLength',
    responseLatency: '$context.responseLatency',
    integrationStatus: '$context.integrationStatus',
    integrationLatency: '$context.integrationLatency',
    integrationError: '$context.integrationErrorMessage',
    error: '$context.error.message',
  }),
);

const HTTP_METHODS: Record<HttpRoute['method'], apigwv2.HttpMethod> = {
  GET: apigwv2.HttpMethod.GET,
  POST: apigwv2.HttpMethod.POST,
  PUT: apigwv2.HttpMethod.PUT,
  PATCH: apigwv2.HttpMethod.PATCH,
  DELETE: apigwv2.HttpMethod.DELETE,
};

const AUTH_IN_HANDLER =
  'Authentication happens in the handler: bearer JWTs from the host identity provider or signed visitor tokens, validated per request (shared/auth).';

/** Stage `RouteSettings` (CloudFormation AWS::ApiGatewayV2::Stage) from throttles by route key. */
const routeSettings = (throttles: Readonly<Record<string, RouteThrottle>>) =>
  Object.keys(throttles).length === 0
    ? undefined
    : Object.fromEntries(
        Object.entries(throttles).map(([routeKey, { rateLimit, burstLimit }]) => [
          routeKey,
          { ThrottlingRateLimit: rateLimit, ThrottlingBurstLimit: burstLimit },
        ]),
      );

export class ChatApis extends Construct {
  readonly webSocketApi: apigwv2.WebSocketApi;
  readonly webSocketStage: apigwv2.WebSocketStage;
  readonly httpApi: apigwv2.HttpApi;
  readonly httpStage: apigwv2.HttpStage;
  readonly webSocketStageName = WEBSOCKET_STAGE_NAME;
  private readonly routeThrottles: LimitsConfig['routeThrottles'];

  constructor(scope: Construct, id: string, props: ChatApisProps) {
    super(scope, id);
    const throttle = { rateLimit: props.throttle.rateLimit, burstLimit: props.throttle.burstLimit };
    this.routeThrottles = props.routeThrottles ?? { http: {}, webSocket: {} };

    this.webSocketApi = new apigwv2.WebSocketApi(this, 'WebSocketApi', {
      description: 'serverless-chat real-time API',
      routeSelectionExpression: '$request.body.action',
    });
    const webSocketLogs = new logs.LogGroup(this, 'WebSocketAccessLogs', {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.webSocketStage = new apigwv2.WebSocketStage(this, 'WebSocketStage', {
      webSocketApi: this.webSocketApi,
      stageName: WEBSOCKET_STAGE_NAME,
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(webSocketLogs),
        format: WEBSOCKET_ACCESS_LOG,
      },
    });
    if (props.apiGatewayLogsRole) this.configureAccountLogsRole();

    this.httpApi = new apigwv2.HttpApi(this, 'HttpApi', {
      description: 'serverless-chat HTTP API',
      createDefaultStage: false,
      // API Gateway answers preflights and sets the CORS headers of every response; functions set none.
      corsPreflight: {
        allowOrigins: [...props.corsOrigins],
        allowHeaders: [...HTTP_API_CORS.allowHeaders],
        allowMethods: HTTP_API_CORS.allowMethods.map((method) => apigwv2.CorsHttpMethod[method]),
        maxAge: Duration.seconds(HTTP_API_CORS.maxAgeSeconds),
      },
    });
    const httpLogs = new logs.LogGroup(this, 'HttpAccessLogs', {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.httpStage = new apigwv2.HttpStage(this, 'HttpDefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle,
      accessLogSettings: {
        destination: new apigwv2.LogGroupLogDestination(httpLogs),
        format: HTTP_ACCESS_LOG,
      },
    });
    // Route settings name route keys: the stages wait for those routes (addWebSocketRoute / addHttpRoute).
    const webSocketSettings = routeSettings(this.routeThrottles.webSocket);
    if (webSocketSettings)
      (this.webSocketStage.node.defaultChild as apigwv2.CfnStage).routeSettings = webSocketSettings;
    const httpSettings = routeSettings(this.routeThrottles.http);
    if (httpSettings) (this.httpStage.node.defaultChild as apigwv2.CfnStage).routeSettings = httpSettings;
  }

  /** `https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, built from the API id (no cycle). */
  get webSocketManagementUrl(): string {
    const stack = Stack.of(this);
    return `https://${this.webSocketApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/${WEBSOCKET_STAGE_NAME}`;
  }

  /** `wss://{apiId}.execute-api.{region}.amazonaws.com/{stage}` */
  get webSocketUrl(): string {
    const stack = Stack.of(this);
    return `wss://${this.webSocketApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}/${WEBSOCKET_STAGE_NAME}`;
  }

  /** `https://{apiId}.execute-api.{region}.amazonaws.com` (no trailing slash; routes start with /v1). */
  get httpApiUrl(): string {
    const stack = Stack.of(this);
    return `https://${this.httpApi.apiId}.execute-api.${stack.region}.${stack.urlSuffix}`;
  }

  addWebSocketRoute(route: WsRoute, fn: lambda.IFunction, id: string): apigwv2.WebSocketRoute {
    const created = this.webSocketApi.addRoute(route.routeKey, {
      integration: new integrations.WebSocketLambdaIntegration(`${id}-integration`, fn),
      returnResponse: route.twoWay,
    });
    if (route.routeKey in this.routeThrottles.webSocket) this.webSocketStage.node.addDependency(created);
    acknowledge(
      created,
      'AwsSolutions-APIG4',
      `${AUTH_IN_HANDLER} $connect requires a short-lived single-use ticket (POST /v1/realtime/tickets); later frames ride that authenticated connection.`,
    );
    return created;
  }

  addHttpRoute(route: HttpRoute, fn: lambda.IFunction, id: string): apigwv2.HttpRoute[] {
    if (route.localOnly)
      throw new Error(`${route.method} ${route.path} is local-only and must not be deployed`);
    const created = this.httpApi.addRoutes({
      path: route.path,
      methods: [HTTP_METHODS[route.method]],
      integration: new integrations.HttpLambdaIntegration(`${id}-integration`, fn),
    });
    for (const httpRoute of created) {
      acknowledge(httpRoute, 'AwsSolutions-APIG4', AUTH_IN_HANDLER);
    }
    if (`${route.method} ${route.path}` in this.routeThrottles.http)
      for (const httpRoute of created) this.httpStage.node.addDependency(httpRoute);
    return created;
  }

  /**
   * WebSocket (unlike HTTP) API access logging needs the account-wide API Gateway CloudWatch Logs role.
   * Retained on delete because other APIs in the account rely on the same setting.
   */
  private configureAccountLogsRole(): void {
    const role = new iam.Role(this, 'ApiGatewayLogsRole', {
      assumedBy: new iam.ServicePrincipal('apigateway.amazonaws.com'),
      managedPolicies: [
        iam.ManagedPolicy.fromAwsManagedPolicyName('service-role/AmazonAPIGatewayPushToCloudWatchLogs'),
      ],
    });
    role.applyRemovalPolicy(RemovalPolicy.RETAIN);
    acknowledge(
      role,
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs]',
      'The AWS managed policy made for the account-wide API Gateway logging role; the role serves every API in the account, so it cannot be scoped to this stack’s log groups.',
    );
    const account = new apigateway.CfnAccount(this, 'ApiGatewayAccount', { cloudWatchRoleArn: role.roleArn });
    account.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.webSocketStage.node.addDependency(account);
  }
}
