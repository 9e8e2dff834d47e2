/**
 * Static web front ends: `web/` is uploaded as-is to a private bucket and served by CloudFront through
 * Origin Access Control. `/` redirects to `/demo/`; `/config.json` carries the deployed API URLs.
 */
import { existsSync } from 'node:fs';
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
  /** Written to `/config.json` so the demo and console find the APIs without a rebuild. */
  readonly runtimeConfig: Record<string, string | boolean>;
}

/** Viewer-request function: `/` → `/demo/`, `/x` → `/x/`, `/x/` → `/x/index.html`. */
const INDEX_REWRITE = `function handler(event) {
  var request = event.request;
  var uri = request.uri;
  if (uri === '/' || uri === '/index.html') {
    return { statusCode: 302, statusDescription: 'Found', headers: { location: { value: '/demo/' } } };
  }
  if (uri.endsWith('/')) {
    request.uri = uri + 'index.html';
  } else if (uri.split('/').pop().indexOf('.') === -1) {
    return { statusCode: 301, statusDescription: 'Moved Permanently', headers: { location: { value: uri + '/' } } };
  }
  return request;
}`;

export class ChatWeb extends Construct {
  readonly bucket: s3.Bucket;
  readonly distribution: cloudfront.Distribution;

  constructor(scope: Construct, id: string, props: ChatWebProps) {
    super(scope, id);

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
      comment: 'serverless-chat: / -> /demo/, directory index',
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
        responseHeadersPolicy: cloudfront.ResponseHeadersPolicy.SECURITY_HEADERS,
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

    const sources = [s3deploy.Source.jsonData('config.json', props.runtimeConfig)];
    if (existsSync(props.webDir)) {
      sources.unshift(s3deploy.Source.asset(props.webDir, { exclude: ['**/.*', '**/*.test.ts'] }));
    }
    new s3deploy.BucketDeployment(this, 'Deployment', {
      sources,
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      memoryLimit: 512,
      logGroup: new logs.LogGroup(this, 'DeploymentLogs', {
        retention: LOG_RETENTION,
        removalPolicy: RemovalPolicy.DESTROY,
      }),
      cacheControl: [s3deploy.CacheControl.maxAge(Duration.minutes(5))],
    });
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
