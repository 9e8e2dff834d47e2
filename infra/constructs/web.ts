/**
 * The web apps: built at synth (infra/web-build.ts: the same bundles the local cloud serves, plus the
 * plain files of web/ and `/sdk/chat.d.ts`) into a temporary directory, uploaded to a private bucket and
 * served by CloudFront through Origin Access Control. `/` serves the demo page, `/console` the console;
 * `/config.json` carries the deployed API URLs and the widget's default tenant.
 *
 * Caching: `/widget.js` and `/config.json` are fetched by a fixed URL from host pages, so they are cached
 * briefly (`max-age=300`, with S3's ETag for revalidation) and every deploy invalidates them; the other
 * files cache for an hour and a deploy invalidates them too.
 *
 * Headers (a response headers policy on the web files): `Access-Control-Allow-Origin: *` for GET/HEAD
 * (the widget runs on other origins and reads config.json from where it was served), HSTS, nosniff,
 * frame and referrer policies, and the pages' Content-Security-Policy (infra/web-csp.ts) with the hashes
 * of the pages' inline scripts.
 */
import { existsSync, mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { DefaultStackSynthesizer, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as cloudfront from 'aws-cdk-lib/aws-cloudfront';
import * as origins from 'aws-cdk-lib/aws-cloudfront-origins';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as s3deploy from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { LOG_RETENTION } from './functions.ts';
import { acknowledge, nagRef } from './nag.ts';
import { ATTACHMENT_PREFIX } from '../../shared/config/storage.ts';
import { SDK_TYPES_PATH, SHORT_CACHE_PATHS, SHORT_CACHE_SECONDS, stageWebSite } from '../web-build.ts';
import { contentSecurityPolicy } from '../web-csp.ts';

export interface ChatWebProps {
  /** Absolute path of the `web/` folder. */
  readonly webDir: string;
  readonly logsBucket: s3.IBucket;
  /**
   * Served under `/files/*`: presigned S3 GETs pass through (query string forwarded, S3's own host
   * name kept, no caching) and responses gain the security headers, `X-Content-Type-Options: nosniff`
   * among them, which S3 cannot send itself.
   */
  readonly attachmentsBucket: s3.IBucket;
  /** Written to `/config.json` so the widget, demo and console find the APIs and tenant without a rebuild. */
  readonly runtimeConfig: Record<string, string | boolean>;
  /**
   * What the pages' scripts may connect to (CSP connect-src besides 'self'): the HTTP API, the WebSocket
   * API and the attachments bucket (presigned POST uploads).
   */
  readonly connectSources: readonly string[];
}

/** Long-lived files: an hour (a deploy invalidates them at the edge). */
const LONG_CACHE = Duration.hours(1);
/** The short-cache files, as object keys (no leading slash), with their source maps. */
const SHORT_CACHE_KEYS = SHORT_CACHE_PATHS.flatMap((path) => {
  const key = path.replace(/^\//, '');
  return key.endsWith('.js') ? [key, `${key}.map`] : [key];
});
/** `sdk/chat.d.ts`: uploaded on its own, since S3 deployments would type `.ts` as an MPEG stream. */
const TYPES_KEY = SDK_TYPES_PATH.replace(/^\//, '');

/**
 * Viewer-request function, the local static server's routes: `/` → the demo page, `/console` → the
 * console; `/x/` → `/x/index.html`, `/x` (no extension) → 301 `/x/`.
 */
const INDEX_REWRITE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/index.html') {
    request.uri = '/demo/index.html';
  } else if (uri === '/console') {
    request.uri = '/console/index.html';
  } else if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: uri + '/' } } };
  }
  return request;
}`;

export class ChatWeb extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;
  readonly headersPolicy: cloudfront.ResponseHeadersPolicy;

  constructor(scope: Construct, id: string, props: ChatWebProps) {
    super(scope, id);

    // The site, built now (bundles, types, static files), in three directories, one per deployment:
    // files/ (cached an hour), short/ (widget.js and its map: five minutes), types/ (the SDK's .d.ts,
    // which S3 deployments would otherwise type as an MPEG stream by its .ts extension).
    const site = existsSync(props.webDir) ? mkdtempSync(join(tmpdir(), 'chat-web-')) : undefined;
    const hashes = site
      ? stageWebSite(join(site, 'files'), { webRoot: props.webDir })
      : { scriptHashes: [], styleHashes: [] };
    const move = (key: string, to: 'short' | 'types'): boolean => {
      if (!site || !existsSync(join(site, 'files', key))) return false;
      mkdirSync(dirname(join(site, to, key)), { recursive: true });
      renameSync(join(site, 'files', key), join(site, to, key));
      return true;
    };
    const shortKeys = SHORT_CACHE_KEYS.filter((key) => move(key, 'short'));
    const hasTypes = move(TYPES_KEY, 'types');

    this.bucket = new s3.Bucket(this, 'Bucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: props.logsBucket,
      serverAccessLogsPrefix: 'web/',
      removalPolicy: RemovalPolicy.RETAIN,
    });

    const indexRewrite = new cloudfront.Function(this, 'IndexRewrite', {
      code: cloudfront.FunctionCode.fromInline(INDEX_REWRITE),
      runtime: cloudfront.FunctionRuntime.JS_2_0,
      comment: 'serverless-chat: / -> demo page, /console -> console, directory index',
    });

    this.headersPolicy = new cloudfront.ResponseHeadersPolicy(this, 'Headers', {
      comment: 'serverless-chat web: CORS for embedding, security headers, CSP',
      corsBehavior: {
        accessControlAllowOrigins: ['*'],
        accessControlAllowMethods: ['GET', 'HEAD'],
        accessControlAllowHeaders: ['*'],
        accessControlAllowCredentials: false,
        accessControlMaxAge: Duration.minutes(10),
        originOverride: true,
      },
      securityHeadersBehavior: {
        contentSecurityPolicy: {
          contentSecurityPolicy: contentSecurityPolicy({
            connect: props.connectSources,
            scriptHashes: hashes.scriptHashes,
            styleHashes: hashes.styleHashes,
          }),
          override: true,
        },
        contentTypeOptions: { override: true },
        frameOptions: { frameOption: cloudfront.HeadersFrameOption.DENY, override: true },
        referrerPolicy: {
          referrerPolicy: cloudfront.HeadersReferrerPolicy.STRICT_ORIGIN_WHEN_CROSS_ORIGIN,
          override: true,
        },
        strictTransportSecurity: {
          accessControlMaxAge: Duration.days(365),
          includeSubdomains: true,
          override: true,
        },
      },
    });

    this.distribution = new cloudfront.Distribution(this, 'Distribution', {
      comment: 'serverless-chat web',
      defaultRootObject: 'index.html',
      priceClass: cloudfront.PriceClass.PRICE_CLASS_100,
      httpVersion: cloudfront.HttpVersion.HTTP2_AND_3,
      enableLogging: true,
      logBucket: props.logsBucket,
      logFilePrefix: 'cloudfront/',
      defaultBehavior: {
        origin: origins.S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: cloudfront.CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headersPolicy,
        compress: true,
        functionAssociations: [
          { function: indexRewrite, eventType: cloudfront.FunctionEventType.VIEWER_REQUEST },
        ],
      },
      additionalBehaviors: {
        [`${ATTACHMENT_PREFIX.files}*`]: {
          // No origin access control: S3 checks the presigned URL's own signature, computed for the
          // bucket's regional host name, which is the Host CloudFront sends to this origin.
          origin: new origins.HttpOrigin(props.attachmentsBucket.bucketRegionalDomainName, {
            protocolPolicy: cloudfront.OriginProtocolPolicy.HTTPS_ONLY,
          }),
          viewerProtocolPolicy: cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
          allowedMethods: cloudfront.AllowedMethods.ALLOW_GET_HEAD,
          cachePolicy: cloudfront.CachePolicy.CACHING_DISABLED,
          originRequestPolicy: new cloudfront.OriginRequestPolicy(this, 'PresignedDownloads', {
            comment: 'serverless-chat: pass presigned S3 query strings, never the viewer Host',
            queryStringBehavior: cloudfront.OriginRequestQueryStringBehavior.all(),
            headerBehavior: cloudfront.OriginRequestHeaderBehavior.none(),
            cookieBehavior: cloudfront.OriginRequestCookieBehavior.none(),
          }),
          responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
        },
      },
    });
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR7',
      'The web bucket origin uses origin access control; the /files/* origin deliberately does not: S3 must check the presigned URL signed for each participant’s download, which OAC would replace. The attachments bucket stays private.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR1',
      'A public chat front end; no geographic restriction is wanted.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR2',
      'Static, read-only files from a private bucket; add a WAF web ACL (cost) if the deployment needs one.',
    );
    acknowledge(
      this.distribution,
      'AwsSolutions-CFR4',
      'Uses the default *.cloudfront.net certificate, for which CloudFront fixes the TLS policy; a custom domain with an ACM certificate would set TLSv1.2_2021.',
    );

    const logGroup = new logs.LogGroup(this, 'DeploymentLogs', {
      retention: LOG_RETENTION,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    // Everything but the short-cache files and the SDK's types, which the other deployments own
    // (exclude also keeps this one's pruning off them).
    const own = [...SHORT_CACHE_KEYS, TYPES_KEY];
    const files = new s3deploy.BucketDeployment(this, 'Deployment', {
      sources: site ? [s3deploy.Source.asset(join(site, 'files'))] : [],
      exclude: own,
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
      logGroup,
      cacheControl: [s3deploy.CacheControl.setPublic(), s3deploy.CacheControl.maxAge(LONG_CACHE)],
    });
    const shortLived = site && shortKeys.length > 0 ? [s3deploy.Source.asset(join(site, 'short'))] : [];
    const pinned = new s3deploy.BucketDeployment(this, 'ShortCacheDeployment', {
      sources: [...shortLived, s3deploy.Source.jsonData('config.json', props.runtimeConfig)],
      destinationBucket: this.bucket,
      prune: false,
      distribution: this.distribution,
      distributionPaths: SHORT_CACHE_KEYS.map((key) => `/${key}`),
      memoryLimit: 512,
      logGroup,
      cacheControl: [
        s3deploy.CacheControl.setPublic(),
        s3deploy.CacheControl.maxAge(Duration.seconds(SHORT_CACHE_SECONDS)),
      ],
    });
    pinned.node.addDependency(files);
    if (site && hasTypes) {
      const types = new s3deploy.BucketDeployment(this, 'TypesDeployment', {
        sources: [s3deploy.Source.asset(join(site, 'types'))],
        destinationBucket: this.bucket,
        prune: false,
        distribution: this.distribution,
        distributionPaths: [SDK_TYPES_PATH],
        memoryLimit: 512,
        logGroup,
        contentType: 'application/typescript; charset=utf-8',
        cacheControl: [s3deploy.CacheControl.setPublic(), s3deploy.CacheControl.maxAge(LONG_CACHE)],
      });
      types.node.addDependency(files);
    }
    this.acknowledgeDeploymentHandler();
  }

  /**
   * The upload runs in a singleton Lambda (Python) that aws-cdk-lib creates at stack level with its own
   * role; its findings are acknowledged on that handler only.
   */
  private acknowledgeDeploymentHandler(): void {
    const stack = Stack.of(this);
    const handlers = stack.node.children.filter((child) =>
      child.node.id.startsWith('Custom::CDKBucketDeployment'),
    );
    if (handlers.length === 0) throw new Error('BucketDeployment handler not found');
    const qualifier =
      (stack.node.tryGetContext('@aws-cdk/core:bootstrapQualifier') as string | undefined) ??
      DefaultStackSynthesizer.DEFAULT_QUALIFIER;
    const owner =
      'Handler of the CDK BucketDeployment construct (code, role and runtime are owned by aws-cdk-lib):';
    const wildcards = `${owner} copies the web/ asset zip into the web bucket, replaces changed objects, prunes removed ones and invalidates CloudFront.`;
    const reasons: Record<string, string> = {
      'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]': `${owner} CloudWatch Logs only.`,
      'AwsSolutions-IAM5[Action::s3:GetObject*]': wildcards,
      'AwsSolutions-IAM5[Action::s3:GetBucket*]': wildcards,
      'AwsSolutions-IAM5[Action::s3:List*]': wildcards,
      'AwsSolutions-IAM5[Action::s3:DeleteObject*]': wildcards,
      'AwsSolutions-IAM5[Action::s3:Abort*]': wildcards,
      [`AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::cdk-${qualifier}-assets-<AWS::AccountId>-<AWS::Region>/*]`]: `${owner} reads the web/ asset from the CDK bootstrap asset bucket.`,
      [`AwsSolutions-IAM5[Resource::${nagRef(this.bucket, 'Arn')}/*]`]: `${owner} writes the objects of the web bucket.`,
      'AwsSolutions-IAM5[Resource::*]': `${owner} cloudfront:CreateInvalidation/GetInvalidation have no resource-level scoping in its policy.`,
      'AwsSolutions-L1': `${owner} its Python runtime is chosen and upgraded by aws-cdk-lib.`,
      'Serverless-LambdaLatestVersion': `${owner} its Python runtime is chosen and upgraded by aws-cdk-lib.`,
      'Serverless-LambdaDLQ': `${owner} invoked synchronously by CloudFormation during deployments only.`,
      'Serverless-LambdaTracing': `${owner} runs only during deployments; its logs suffice.`,
    };
    for (const handler of handlers) {
      for (const [ruleId, reason] of Object.entries(reasons)) acknowledge(handler, ruleId, reason);
    }
  }
}
