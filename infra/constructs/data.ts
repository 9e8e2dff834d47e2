/**
 * Stateful resources: the single table (built from shared/config/table.ts), the attachments bucket,
 * the access-log bucket and the visitor-token signing secret. All of them survive `cdk destroy`.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { type TableDefinition, tableDefinitionFor } from '../../shared/config/table.ts';
import { acknowledge } from './nag.ts';
import { ATTACHMENT_PREFIX, PENDING_EXPIRY_DAYS } from '../../shared/config/storage.ts';

export interface ChatDataProps {
  readonly corsOrigins: readonly string[];
  /** Indexed chat metadata keys, in slot order: two GSIs each (shared/config/metadata-index.ts). */
  readonly indexedMetadataKeys: readonly string[];
  /**
   * 1 or 2: the last key has that many of its GSIs (1: equality only) and the functions are not given
   * it yet (docs/deploy.md, "Indexed metadata keys"). Default 0: every key in use.
   */
  readonly pendingMetadataKey?: 0 | 1 | 2;
}

const STREAM_VIEW: Record<TableDefinition['streamView'], dynamodb.StreamViewType> = {
  NEW_AND_OLD_IMAGES: dynamodb.StreamViewType.NEW_AND_OLD_IMAGES,
};

const stringKey = (name: string): dynamodb.Attribute => ({ name, type: dynamodb.AttributeType.STRING });

export class ChatData extends Construct {
  readonly table: dynamodb.Table;
  readonly logsBucket: s3.Bucket;
  readonly attachmentsBucket: s3.Bucket;
  readonly visitorSecret: secretsmanager.Secret;
  /**
   * The metadata keys the table has both GSIs for: the functions' INDEXED_METADATA_KEYS (all configured
   * keys, or all but the pending last one).
   */
  readonly indexedMetadataKeys: readonly string[];

  constructor(scope: Construct, id: string, props: ChatDataProps) {
    super(scope, id);

    const pending = props.pendingMetadataKey ?? 0;
    const tableDefinition = tableDefinitionFor(props.indexedMetadataKeys, {
      lastKeyEqualityOnly: pending === 1,
    });
    this.indexedMetadataKeys =
      pending > 0 ? props.indexedMetadataKeys.slice(0, -1) : [...props.indexedMetadataKeys];
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: stringKey(tableDefinition.partitionKey),
      sortKey: stringKey(tableDefinition.sortKey),
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      stream: STREAM_VIEW[tableDefinition.streamView],
      timeToLiveAttribute: tableDefinition.ttlAttribute,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    for (const index of tableDefinition.globalIndexes) {
      this.table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: stringKey(index.partitionKey),
        sortKey: stringKey(index.sortKey),
        projectionType: dynamodb.ProjectionType[index.projection],
      });
    }

    // Receives S3 server access logs (bucket policy) and CloudFront standard logs (needs ACLs, hence
    // BUCKET_OWNER_PREFERRED). Objects expire after 90 days.
    this.logsBucket = new s3.Bucket(this, 'LogsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'expire-logs', expiration: Duration.days(90) },
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
      ],
    });

    this.attachmentsBucket = new s3.Bucket(this, 'AttachmentsBucket', {
      blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
      encryption: s3.BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      objectOwnership: s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
      serverAccessLogsBucket: this.logsBucket,
      serverAccessLogsPrefix: 'attachments/',
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        { id: 'abort-incomplete-uploads', abortIncompleteMultipartUploadAfter: Duration.days(1) },
        // Uploads land under pending/ and move to files/ once confirmed; never-confirmed ones expire.
        {
          id: 'expire-unconfirmed-uploads',
          prefix: ATTACHMENT_PREFIX.pending,
          expiration: Duration.days(PENDING_EXPIRY_DAYS),
        },
      ],
      cors: [
        {
          allowedOrigins: [...props.corsOrigins],
          // Browsers POST uploads (presigned POST) and GET downloads (presigned GET); nothing else.
          allowedMethods: [s3.HttpMethods.POST, s3.HttpMethods.GET, s3.HttpMethods.HEAD],
          allowedHeaders: ['*'],
          exposedHeaders: ['ETag'],
          maxAge: 3000,
        },
      ],
    });

    this.visitorSecret = new secretsmanager.Secret(this, 'VisitorSecret', {
      description: 'HS256 key that signs serverless-chat visitor tokens',
      generateSecretString: { passwordLength: 64, excludePunctuation: true },
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledge(
      this.visitorSecret,
      'AwsSolutions-SMG4',
      'Rotating the visitor signing key invalidates every live visitor token; it is rotated manually (docs/deploy.md).',
    );
  }
}
