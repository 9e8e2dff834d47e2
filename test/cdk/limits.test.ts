/**
 * Limits in the CDK stack: reserved concurrency for the fan-out and `$connect`, per-route stage
 * throttles (the stages depend on the routes they name), and quotas from the `quotas` context handed to
 * every function — each from CDK context with defaults, and each mistake a clear ConfigError.
 */
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { type BuildAppOptions, buildApp } from '../../infra/build-app.ts';
import { ConfigError } from '../../infra/constructs/config.ts';
import { parseReservedConcurrency, parseRouteThrottles } from '../../infra/constructs/limits.ts';
import type { ChatStack } from '../../infra/stack.ts';
import { tempDirs } from '../support/temp-dir.ts';
import { writeStubProject } from './stub-project.ts';

const tempDir = tempDirs();
const STUB_ROOT = writeStubProject(tempDir('chat-cdk-limits-'));
const AUTH_CONTEXT = {
  issuer: 'https://id.example.org/',
  audience: 'chat-tests',
  jwksUrl: 'https://id.example.org/.well-known/jwks.json',
};

const synth = (context: BuildAppOptions['context'] = {}) => {
  const { stack } = buildApp({
    projectRoot: STUB_ROOT,
    outdir: tempDir('chat-cdk-limits-out-'),
    nag: false,
    context: { 'aws:cdk:bundling-stacks': [], auth: AUTH_CONTEXT, ...context },
  });
  return { stack, template: Template.fromStack(stack) };
};

type Resource = { Type: string; Properties?: Record<string, unknown>; DependsOn?: string[] };
const resourcesOf = (template: Template) => template.toJSON().Resources as Record<string, Resource>;
const logicalId = (stack: Stack, construct: { node: { defaultChild?: unknown } }): string =>
  stack.getLogicalId(construct.node.defaultChild as never);
const reservedOf = (stack: ChatStack, template: Template): Record<string, number> => {
  const resources = resourcesOf(template);
  const reserved: Record<string, number> = {};
  for (const [id, created] of stack.functions) {
    const value = resources[logicalId(stack, created.fn)]?.Properties?.ReservedConcurrentExecutions;
    if (value !== undefined) reserved[id] = value as number;
  }
  return reserved;
};

describe('limits in the stack', () => {
  // Prepare (shared): one synthesis with the default limits.
  const { stack, template } = synth();

  it('reserves concurrency for the fan-out and $connect only', () => {
    // Act
    const reserved = reservedOf(stack, template);

    // Assess
    expect(reserved).toEqual({ 'stream-fanout': 25, 'ws-connect': 25 });
  });

  it('throttles the long-poll, visitor and ticket routes on the HTTP stage, after those routes exist', () => {
    // Prepare
    const resources = resourcesOf(template);
    const stageId = logicalId(stack, stack.apis.httpStage);
    const stage = resources[stageId];
    const eventsRoute = Object.entries(resources).find(
      ([, resource]) =>
        resource.Type === 'AWS::ApiGatewayV2::Route' &&
        resource.Properties?.RouteKey === 'GET /v1/chats/{chatId}/events',
    );

    // Act
    const settings = stage?.Properties?.RouteSettings as Record<string, unknown>;

    // Assess
    expect(settings).toMatchObject({
      'GET /v1/chats/{chatId}/events': { ThrottlingRateLimit: 200, ThrottlingBurstLimit: 400 },
      'GET /v1/chats/changes': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 },
      'POST /v1/visitors': { ThrottlingRateLimit: 20, ThrottlingBurstLimit: 50 },
      'POST /v1/realtime/tickets': { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 },
    });
    expect(stage?.Properties?.DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: 100 });
    expect(stage?.DependsOn).toContain(eventsRoute?.[0]);
  });

  it('throttles $connect on the WebSocket stage, after the $connect route exists', () => {
    // Prepare
    const resources = resourcesOf(template);
    const stage = resources[logicalId(stack, stack.apis.webSocketStage)];
    const connectRoute = Object.entries(resources).find(
      ([, resource]) =>
        resource.Type === 'AWS::ApiGatewayV2::Route' && resource.Properties?.RouteKey === '$connect',
    );

    // Act
    const settings = stage?.Properties?.RouteSettings;

    // Assess
    expect(settings).toEqual({ $connect: { ThrottlingRateLimit: 100, ThrottlingBurstLimit: 200 } });
    expect(stage?.DependsOn).toContain(connectRoute?.[0]);
  });

  it('lets the long polls write their leases', () => {
    // Act
    const permissions = ['http-poll-events', 'http-poll-chat-changes'].map(
      (id) => stack.functions.get(id)?.route.permissions,
    );

    // Assess
    for (const granted of permissions) expect(granted).toContain('table:write');
  });
});

describe('limits from the context', () => {
  it('gives every function the quotas, and the fan-out the reservation and the events route the throttle, the context sets', () => {
    // Act
    const { stack, template } = synth({
      quotas: { messages: '20/1s', chats: 'off', longPollsPerIdentity: 2 },
      reservedConcurrency: { 'stream-fanout': 40 },
      routeThrottles: { http: { 'GET /v1/chats/{chatId}/events': { rateLimit: 10, burstLimit: 20 } } },
    });
    const resources = resourcesOf(template);
    const functions = Object.values(resources).filter(
      (resource) =>
        resource.Type === 'AWS::Lambda::Function' &&
        String(resource.Properties?.Description ?? '').startsWith('serverless-chat'),
    );

    // Assess
    expect(functions.length).toBeGreaterThan(30);
    for (const fn of functions) {
      const variables = (fn.Properties?.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(variables).toMatchObject({
        QUOTA_MESSAGES: '20/1s',
        QUOTA_CHATS: 'off',
        LONG_POLLS_PER_IDENTITY: '2',
      });
      expect(variables.QUOTA_UPLOADS).toBeUndefined();
    }
    expect(reservedOf(stack, template)).toEqual({ 'stream-fanout': 40 });
    expect(resources[logicalId(stack, stack.apis.httpStage)]?.Properties?.RouteSettings).toEqual({
      'GET /v1/chats/{chatId}/events': { ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 },
    });
    expect(resources[logicalId(stack, stack.apis.webSocketStage)]?.Properties?.RouteSettings).toBeUndefined();
  }, 180_000);

  it('reserves nothing with `false` and throttles no route with `{}`', () => {
    // Act + Assess
    expect(parseReservedConcurrency(false)).toEqual({});
    expect(parseReservedConcurrency('false')).toEqual({});
    expect(parseRouteThrottles({})).toEqual({ http: {}, webSocket: {} });
  });

  it('refuses a malformed quota, an unknown function or route, and a non-positive throttle', () => {
    // Act
    const attempts = [
      { quotas: { messages: 'lots' } },
      { quotas: { everything: '1/1s' } },
      { reservedConcurrency: { 'http-nothing': 5 } },
      { reservedConcurrency: { 'stream-fanout': 0 } },
      { routeThrottles: { http: { 'GET /v1/nowhere': { rateLimit: 1, burstLimit: 1 } } } },
      { routeThrottles: { webSocket: { $connect: { rateLimit: 0, burstLimit: 1 } } } },
    ].map((context) => {
      try {
        synth(context);
        return undefined;
      } catch (error) {
        return error;
      }
    });

    // Assess
    for (const error of attempts) expect(error).toBeInstanceOf(ConfigError);
    expect(String((attempts[0] as Error).message)).toMatch(/quotas\.messages.*100\/10s/);
  });
});
