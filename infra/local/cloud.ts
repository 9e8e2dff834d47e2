/**
 * The local cloud: the real handler files behind emulated API Gateway (HTTP + WebSocket), DynamoDB Local
 * with a stream poller, an S3 emulator and a static server for web/. Routes, stream consumers and the
 * table all come from shared/config, exactly like the CDK stack.
 *
 * One local cloud per process: handlers read their configuration from process.env when first imported.
 */
import type { Server } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import S3rver from 's3rver';
import { createTableContext } from '../../shared/adapters/dynamo/client.ts';
import { DynamoTenantStore } from '../../shared/adapters/dynamo/tenant-store.ts';
import { S3RVER_CREDENTIALS } from '../../shared/adapters/s3-attachments.ts';
import type { Context, DynamoDBRecord, S3Event } from 'aws-lambda';
import { bucketConsumers, httpRoutes, streamConsumers, wsRoutes } from '../../shared/config/routes.ts';
import { ATTACHMENT_PREFIX } from '../../shared/config/storage.ts';
import { HTTP_API_CORS } from '../../shared/http/cors.ts';
import {
  DEFAULT_INDEXED_METADATA_KEYS,
  parseIndexedMetadataKeys,
} from '../../shared/config/metadata-index.ts';
import { buildSdkTypesInChild, buildWeb, SDK_TYPES_PATH } from '../web-build.ts';
import { startDynamoLocal } from './dynamo.ts';
import { startDynamoFaultProxy } from './dynamo-faults.ts';
import { type LoadGauge, startLoadGauge } from './load-gauge.ts';
import { type FaultCounts, FaultInjector, type FaultPlan, loadFaultPlan } from './faults.ts';
import { freePort } from './free-port.ts';
import { type HttpInvoke, startHttpGateway } from './http-gateway.ts';
import { createLambdaContext, LOCAL_REGION } from './lambda-context.ts';
import { startStaticServer } from './static-server.ts';
import type { StreamPollerConsumer } from './stream-consumer.ts';
import { startStreamPoller } from './stream-poller.ts';
import { streamPace, type StreamPolling } from './stream-pace.ts';
import { ensureTable } from './table.ts';
import { startWsGateway, type WsGatewayRoute, type WsInvoke } from './ws-gateway.ts';
import { backoffDelay, noJitter } from '../../shared/domain/backoff.ts';

const ROOT = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');
export const LOCAL_TABLE = 'chat-local';
export const LOCAL_BUCKET = 'chat-attachments-local';
export const DEMO_TENANT = 'demo';
/** The demo tenant's responder texts (docs/operations.md, "Responders"). */
export const DEMO_TEXTS = {
  greeting: 'Hi! How can we help?',
  awayMessage: 'No agent is online right now; leave a message and we will answer soon.',
} as const;
/**
 * The demo tenant accepts the widget from any local page: `http://localhost:<port>` and
 * `http://127.0.0.1:<port>` (port wildcards, shared/domain/origins.ts). The attachments bucket's CORS
 * rules allow uploads from the same origins.
 */
export const DEMO_ORIGINS = ['http://localhost:*', 'http://127.0.0.1:*'] as const;
/** Development-only secrets: the local cloud is not a deployment. */
const DEV_AUTH_SECRET = 'local-development-auth-secret-not-for-production';
const DEV_VISITOR_SECRET = 'local-development-visitor-secret-not-for-production';

export interface LocalCloudOptions {
  /**
   * The address the web, HTTP and WebSocket servers listen on: 127.0.0.1 by default (CHAT_HOST, else
   * loopback only); `0.0.0.0` or `::` serves other machines too. The printed URLs say `localhost`.
   */
  readonly host?: string;
  readonly webPort?: number;
  readonly httpPort?: number;
  readonly wsPort?: number;
  readonly dynamoPort?: number;
  readonly s3Port?: number;
  /** Keep DynamoDB and S3 data in this directory (default: in memory / a temporary directory). */
  readonly persistDir?: string;
  readonly idleTimeoutMs?: number;
  readonly maxConnectionMs?: number;
  /**
   * The seeded `demo` tenant's greeting and away texts (default: both set); `{}` seeds it without any,
   * so visitors' new chats start empty. Only applies when the tenant is created (not when persisted).
   */
  readonly demoTexts?: { readonly greeting?: string; readonly awayMessage?: string };
  /** Extra environment for the handlers (e.g. POLL_INTERVAL_MS in tests). */
  readonly env?: Readonly<Record<string, string>>;
  /**
   * The indexed chat metadata keys: the table's metadata GSIs and the handlers' INDEXED_METADATA_KEYS
   * (default: INDEXED_METADATA_KEYS of `env` or of this process, else project_id, department, priority).
   */
  readonly indexedMetadataKeys?: readonly string[];
  readonly log?: (line: string) => void;
  /**
   * Faults to inject (infra/local/faults.ts); default: the plan named by CHAT_FAULTS, else none.
   * `null`: none, whatever CHAT_FAULTS says.
   */
  readonly faults?: FaultPlan | null;
  /**
   * How the table's stream is polled (./stream-pace.ts): `local` (default) quickly and on each write,
   * `aws` at Lambda's base rate of 4 times per second, as an event source mapping batches records.
   */
  readonly streamPolling?: StreamPolling;
  /**
   * The tumbling window of every stream consumer that has one in the route table, in seconds, instead of
   * the table's (the fan-out's stats counters are written at each window's end): a test sets 1.
   */
  readonly tumblingWindowSeconds?: number;
}

/** A stream consumer's records that failed every retry: what an on-failure destination would receive. */
export interface FailedStreamRecords {
  readonly consumer: string;
  readonly records: readonly DynamoDBRecord[];
  readonly error: string;
}

export interface LocalCloud {
  readonly urls: { web: string; http: string; ws: string; dynamodb: string; s3: string };
  readonly tableName: string;
  readonly bucket: string;
  /** The indexed chat metadata keys the table and the handlers use. */
  readonly indexedMetadataKeys: readonly string[];
  /**
   * Resolves once the WebSocket gateway's work under way (queued `$disconnect`s too) has finished and the
   * stream and bucket consumers have processed everything so far.
   */
  idle(): Promise<void>;
  /**
   * `idle()`, then until every stream consumer's tumbling window has ended with its final invocation
   * (the fan-out writes the stats counters then).
   */
  windowsClosed(): Promise<void>;
  /** The stream consumers' failure queue: records dropped after their retries, oldest first. */
  failures(): readonly FailedStreamRecords[];
  /** How often each fault of the plan fired (empty without a plan). */
  faultCounts(): FaultCounts;
  stop(): Promise<void>;
}

type Module = { handler: unknown };
/**
 * A handler of the route table, loaded in-process. The gauge, if given, counts each invocation while it
 * runs (long polls are not given one: they mostly wait); `after` runs once it has settled: the handlers
 * are what writes to the table, so the stream poller is told to look at once.
 */
const load = async <T>(handlerPath: string, gauge: LoadGauge | undefined, after: () => void): Promise<T> => {
  const module = (await import(pathToFileURL(join(ROOT, handlerPath)).href)) as Module;
  const handler = module.handler;
  if (typeof handler !== 'function') throw new Error(`${handlerPath} does not export a handler function`);
  const invoke = async (...args: unknown[]): Promise<unknown> => {
    const ended = gauge?.invocation();
    try {
      return await handler(...args);
    } finally {
      ended?.();
      after();
    }
  };
  return invoke as T;
};

/**
 * The port asked for, else the environment's, else the default, else a free one. `picked`: the ports
 * chosen so far, none of them bound yet, which a free pick must not repeat.
 */
const port = async (
  value: number | undefined,
  envName: string,
  picked: Set<number>,
  fallback?: number,
): Promise<number> => {
  const fromEnv = process.env[envName];
  const chosen =
    value !== undefined && value !== 0
      ? value
      : value === undefined && fromEnv
        ? Number(fromEnv)
        : value === undefined && fallback
          ? fallback
          : await freePort('127.0.0.1', picked);
  picked.add(chosen);
  return chosen;
};

export const startLocalCloud = async (options: LocalCloudOptions = {}): Promise<LocalCloud> => {
  const log = options.log ?? (() => {});
  const stops: (() => Promise<void>)[] = [];
  const stopAll = async () => {
    for (const stop of stops.reverse())
      await stop().catch((error: unknown) => log(`stop failed: ${String(error)}`));
  };
  // The web apps' bundles are built (in memory) while the rest starts; a compile error fails the start.
  const webRoot = join(ROOT, 'web');
  const building = buildWeb({ webRoot });
  building.catch(() => {});
  try {
    // One list for the table's GSIs and the handlers' INDEXED_METADATA_KEYS; invalid fails the start.
    const indexedMetadataKeys = parseIndexedMetadataKeys(
      options.indexedMetadataKeys ??
        options.env?.INDEXED_METADATA_KEYS ??
        process.env.INDEXED_METADATA_KEYS ??
        DEFAULT_INDEXED_METADATA_KEYS,
      'INDEXED_METADATA_KEYS',
    );
    const host = options.host ?? (process.env.CHAT_HOST || '127.0.0.1');
    const picked = new Set<number>();
    const webPort = await port(options.webPort, 'CHAT_WEB_PORT', picked, 3000);
    const httpPort = await port(options.httpPort, 'CHAT_HTTP_PORT', picked, 3001);
    const wsPort = await port(options.wsPort, 'CHAT_WS_PORT', picked, 3002);
    const dynamoPort = await port(options.dynamoPort, 'CHAT_DYNAMODB_PORT', picked);
    const s3Port = await port(options.s3Port, 'CHAT_S3_PORT', picked);
    const urls = {
      web: `http://localhost:${webPort}`,
      http: `http://localhost:${httpPort}`,
      ws: `ws://localhost:${wsPort}`,
      dynamodb: `http://127.0.0.1:${dynamoPort}`,
      s3: `http://localhost:${s3Port}`,
    };

    // Data: DynamoDB Local (in memory unless persisted) with the shared table definition, and S3.
    const dynamo = await startDynamoLocal({
      port: dynamoPort,
      ...(options.persistDir ? { persistDir: resolve(options.persistDir) } : {}),
    });
    stops.push(() => dynamo.stop());
    Object.assign(process.env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: 'local',
      AWS_SECRET_ACCESS_KEY: 'local',
      AWS_NODEJS_CONNECTION_REUSE_ENABLED: '1',
    });
    const client = new DynamoDBClient({ endpoint: dynamo.endpoint });
    await ensureTable(client, LOCAL_TABLE, indexedMetadataKeys);
    client.destroy();
    // The fault plan: the handlers reach DynamoDB through the fault proxy; the stream poller and the
    // table set-up do not (they stand for AWS's own services).
    const plan = options.faults === null ? undefined : (options.faults ?? loadFaultPlan());
    const faults = plan ? new FaultInjector(plan) : undefined;
    let handlerDynamoEndpoint = dynamo.endpoint;
    if (faults?.plan.dynamo) {
      const proxy = await startDynamoFaultProxy({ upstream: dynamo.endpoint, faults });
      stops.push(() => proxy.close());
      handlerDynamoEndpoint = proxy.endpoint;
    }
    const tenants = new DynamoTenantStore(createTableContext(LOCAL_TABLE, dynamo.endpoint), 0);
    const demo = await tenants.get(DEMO_TENANT);
    if (!demo) {
      await tenants.put({
        tenantId: DEMO_TENANT,
        name: 'Demo',
        allowedOrigins: [...DEMO_ORIGINS],
        theme: {},
        ...(options.demoTexts ?? DEMO_TEXTS),
        createdAt: new Date().toISOString(),
      });
    } else if (DEMO_ORIGINS.some((origin) => !demo.allowedOrigins.includes(origin))) {
      // A tenant persisted by an older version: the contract's origins, whatever else it lists.
      await tenants.put({ ...demo, allowedOrigins: [...new Set([...demo.allowedOrigins, ...DEMO_ORIGINS])] });
    }

    const s3Dir = options.persistDir
      ? resolve(options.persistDir, 's3')
      : mkdtempSync(join(tmpdir(), 'chat-s3-'));
    const s3 = new S3rver({
      port: s3Port,
      address: '127.0.0.1',
      silent: true,
      directory: s3Dir,
      configureBuckets: [{ name: LOCAL_BUCKET, configs: [corsXml(DEMO_ORIGINS)] }],
    });
    // Not s3.run(): its listen has no 'error' listener, so a port in use threw an uncaught exception
    // instead of failing the start (and the start's cleanup never ran).
    await s3.configureBuckets();
    const s3Server = await new Promise<Server>((resolve, reject) => {
      const server = s3.listen(s3Port, '127.0.0.1', () => {
        server.off('error', reject);
        resolve(server);
      });
      server.once('error', reject);
    });
    stops.push(async () => {
      await new Promise<void>((resolve) => s3Server.close(() => resolve()));
      if (!options.persistDir) rmSync(s3Dir, { recursive: true, force: true });
    });

    // The handlers' configuration, exactly the variables CDK sets in AWS (shared/config/env.ts).
    Object.assign(process.env, {
      TABLE_NAME: LOCAL_TABLE,
      DYNAMODB_ENDPOINT: handlerDynamoEndpoint,
      WS_MANAGEMENT_ENDPOINT: `http://127.0.0.1:${wsPort}`,
      WS_PUBLIC_URL: urls.ws,
      AUTH_ISSUER: `${urls.http}/v1/dev`,
      AUTH_AUDIENCE: 'serverless-chat',
      AUTH_SECRET: DEV_AUTH_SECRET,
      AUTH_ALGORITHMS: 'HS256',
      VISITOR_SECRET: DEV_VISITOR_SECRET,
      ATTACHMENTS_BUCKET: LOCAL_BUCKET,
      S3_ENDPOINT: urls.s3,
      ATTACHMENTS_DOWNLOAD_BASE: urls.web,
      POWERTOOLS_LOG_LEVEL: process.env.POWERTOOLS_LOG_LEVEL ?? 'WARN',
      POWERTOOLS_METRICS_DISABLED: 'true',
      POWERTOOLS_DEV: 'true',
      ...options.env,
      INDEXED_METADATA_KEYS: indexedMetadataKeys.join(','),
    });

    // Every invocation may have written to the table: tell the stream poller (started below) to look now.
    const wake = { poke: () => {} };
    const written = () => wake.poke();
    // New connections are refused at their ticket with 429 while the local cloud is overloaded.
    const gauge = startLoadGauge();
    stops.push(async () => gauge.stop());
    const pace = streamPace(options.streamPolling ?? 'local', () => gauge.overloaded());
    const wsRouteMap = new Map<string, WsGatewayRoute>();
    for (const route of wsRoutes) {
      wsRouteMap.set(route.routeKey, {
        invoke: await load<WsInvoke>(route.handler, gauge, written),
        twoWay: route.twoWay,
        timeoutMs: (route.timeoutSeconds ?? 10) * 1000,
      });
    }
    const ws = await startWsGateway({
      port: wsPort,
      host,
      routes: wsRouteMap,
      ...(faults ? { faults } : {}),
      ...(options.idleTimeoutMs ? { idleTimeoutMs: options.idleTimeoutMs } : {}),
      ...(options.maxConnectionMs ? { maxConnectionMs: options.maxConnectionMs } : {}),
    });
    stops.push(() => ws.close());

    const consumers: StreamPollerConsumer[] = [];
    for (const consumer of streamConsumers) {
      consumers.push({
        name: consumer.name,
        filters: consumer.filters,
        batchSize: consumer.batchSize,
        retryAttempts: consumer.retryAttempts,
        timeoutMs: (consumer.timeoutSeconds ?? 10) * 1000,
        ...(consumer.tumblingWindowSeconds
          ? { tumblingWindowSeconds: options.tumblingWindowSeconds ?? consumer.tumblingWindowSeconds }
          : {}),
        invoke: await load<StreamPollerConsumer['invoke']>(consumer.handler, gauge, written),
      });
    }
    const failed: FailedStreamRecords[] = [];
    const poller = await startStreamPoller({
      endpoint: dynamo.endpoint,
      region: LOCAL_REGION,
      tableName: LOCAL_TABLE,
      consumers,
      pollIntervalMs: pace.pollIntervalMs,
      idlePollIntervalMs: pace.idlePollIntervalMs,
      minRoundGapMs: pace.minRoundGapMs,
      ...(faults ? { faults } : {}),
      onFailure: (consumer, records, error) => {
        failed.push({ consumer: consumer.name, records, error: String(error) });
        log(
          `stream consumer ${consumer.name} dropped ${records.length} record(s) after retries: ${String(error)}`,
        );
      },
    });
    if (pace.wokenByWrites) wake.poke = () => poller.poke();
    stops.push(() => poller.stop());

    // S3 notifications: ObjectCreated under a consumer's prefix invokes it asynchronously, with Lambda's
    // two retries for async invocations. Keys are URL-encoded as AWS sends them.
    const inFlight = new Set<Promise<void>>();
    for (const consumer of bucketConsumers) {
      const invoke = await load<(event: S3Event, context: Context) => Promise<void>>(
        consumer.handler,
        gauge,
        written,
      );
      s3.on('event', (event) => {
        for (const record of event.Records as S3Event['Records']) {
          if (
            !record.eventName.startsWith('ObjectCreated:') ||
            !record.s3.object.key.startsWith(consumer.prefix)
          )
            continue;
          const s3Record = {
            ...record,
            s3: { ...record.s3, object: { ...record.s3.object, key: encodeS3Key(record.s3.object.key) } },
          };
          const run = async () => {
            for (let attempt = 0; attempt < 3; attempt++) {
              try {
                const context = createLambdaContext({
                  functionName: consumer.name,
                  timeoutMs: (consumer.timeoutSeconds ?? 10) * 1000,
                });
                await invoke({ Records: [s3Record] }, context);
                return;
              } catch (error) {
                log(
                  `bucket consumer ${consumer.name} failed (attempt ${attempt + 1} of 3): ${String(error)}`,
                );
                await new Promise((resolve) =>
                  setTimeout(resolve, backoffDelay(attempt, 100, Infinity, noJitter)),
                );
              }
            }
          };
          const running = run().finally(() => inFlight.delete(running));
          inFlight.add(running);
        }
      });
    }

    const http = await startHttpGateway({
      port: httpPort,
      host,
      routes: await Promise.all(
        httpRoutes.map(async (route) => ({
          method: route.method,
          path: route.path,
          invoke: await load<HttpInvoke>(route.handler, route.longPoll ? undefined : gauge, written),
          timeoutMs: (route.timeoutSeconds ?? 10) * 1000,
          // Local-only routes (the development token issuer) answer the local web apps' origins only.
          ...(route.localOnly
            ? {
                cors: {
                  allowOrigins: [`http://localhost:${webPort}`, `http://127.0.0.1:${webPort}`],
                  ...HTTP_API_CORS,
                },
              }
            : {}),
        })),
      ),
      // The deployed API's CORS policy (the CDK context `corsOrigins` defaults to `*` too).
      cors: { allowOrigins: ['*'], ...HTTP_API_CORS },
      shed: { routeKeys: ['POST /v1/realtime/tickets'], overloaded: gauge.overloaded },
    });
    stops.push(() => http.close());

    // The web apps' bundles, built in memory at start; the SDK's declaration file on its first request.
    const built = await building;
    const web = await startStaticServer({
      port: webPort,
      host,
      root: webRoot,
      routes: { '/': 'demo/index.html', '/console': 'console/index.html' },
      assets: built.assets,
      lazyAssets: { [SDK_TYPES_PATH]: () => buildSdkTypesInChild(webRoot) },
      connectOrigins: [urls.http, urls.ws, urls.s3],
      runtimeConfig: { httpUrl: urls.http, wsUrl: urls.ws, tenantId: DEMO_TENANT, devTokens: true },
      // Like the CloudFront behaviour in front of the attachments bucket (infra/constructs/web.ts).
      // Like S3 behind it, it serves an object only for a valid, unexpired presigned URL.
      proxies: {
        [`/${ATTACHMENT_PREFIX.files}`]: {
          target: `http://127.0.0.1:${s3Port}/${LOCAL_BUCKET}`,
          presigned: { ...S3RVER_CREDENTIALS, region: LOCAL_REGION, signedHost: new URL(urls.s3).host },
        },
      },
    });
    stops.push(() => web.close());

    const idle = async () => {
      // Queued $disconnects write to the table too: the stream settles after them.
      await ws.settled();
      await poller.idle();
      await Promise.all([...inFlight]);
    };
    return {
      urls,
      tableName: LOCAL_TABLE,
      bucket: LOCAL_BUCKET,
      indexedMetadataKeys,
      idle,
      windowsClosed: async () => {
        await idle();
        await poller.windowsClosed();
        await Promise.all([...inFlight]);
      },
      failures: () => [...failed],
      faultCounts: () => faults?.counts() ?? {},
      stop: stopAll,
    };
  } catch (error) {
    await stopAll();
    throw error;
  }
};

/** S3 notification keys are URL-encoded, spaces as `+`, slashes kept. */
const encodeS3Key = (key: string): string =>
  encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');

/**
 * The bucket's CORS rules (presigned POST uploads from the browser). S3 (and s3rver) patterns allow one
 * `*` anywhere in an AllowedOrigin, so `http://localhost:*` covers every port.
 */
const corsXml = (origins: readonly string[]): string => `<CORSConfiguration>
  <CORSRule>
${origins.map((origin) => `    <AllowedOrigin>${origin}</AllowedOrigin>`).join('\n')}
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>POST</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;
