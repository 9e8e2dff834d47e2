/** Creates the table from the shared definition (the same one CDK deploys) in DynamoDB Local. */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  type DynamoDBClient,
  ResourceInUseException,
  UpdateTableCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { DEFAULT_INDEXED_METADATA_KEYS } from '../../shared/config/metadata-index.ts';
import { tableDefinitionFor } from '../../shared/config/table.ts';

/** `indexedKeys`: the indexed chat metadata keys, two GSIs each (the handlers' INDEXED_METADATA_KEYS). */
export const createTableInput = (
  tableName: string,
  indexedKeys: readonly string[] = DEFAULT_INDEXED_METADATA_KEYS,
): CreateTableCommandInput => {
  const tableDefinition = tableDefinitionFor(indexedKeys);
  const attributes = new Set<string>([tableDefinition.partitionKey, tableDefinition.sortKey]);
  for (const index of tableDefinition.globalIndexes) {
    attributes.add(index.partitionKey);
    attributes.add(index.sortKey);
  }
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [...attributes].map((name) => ({ AttributeName: name, AttributeType: 'S' })),
    KeySchema: [
      { AttributeName: tableDefinition.partitionKey, KeyType: 'HASH' },
      { AttributeName: tableDefinition.sortKey, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: tableDefinition.globalIndexes.map((index) => ({
      IndexName: index.indexName,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' },
        { AttributeName: index.sortKey, KeyType: 'RANGE' },
      ],
      Projection: { ProjectionType: index.projection },
    })),
    StreamSpecification: { StreamEnabled: true, StreamViewType: tableDefinition.streamView },
  };
};

/** Creates the table if it does not exist yet (a persisted local database keeps it between runs). */
export const ensureTable = async (
  client: DynamoDBClient,
  tableName: string,
  indexedKeys: readonly string[] = DEFAULT_INDEXED_METADATA_KEYS,
): Promise<void> => {
  try {
    await client.send(new CreateTableCommand(createTableInput(tableName, indexedKeys)));
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: {
          AttributeName: tableDefinitionFor(indexedKeys).ttlAttribute,
          Enabled: true,
        },
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
    await addMissingIndexes(client, tableName, indexedKeys);
  }
  await client.send(new DescribeTableCommand({ TableName: tableName }));
};

/**
 * A persisted local table from before a GSI was added (e.g. another indexed metadata key) gets it, one
 * at a time. GSIs of keys no longer configured stay; the metadata backfill clears their attributes.
 */
const addMissingIndexes = async (
  client: DynamoDBClient,
  tableName: string,
  indexedKeys: readonly string[],
): Promise<void> => {
  const input = createTableInput(tableName, indexedKeys);
  const { Table: table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const existing = new Set((table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName));
  for (const index of input.GlobalSecondaryIndexes ?? []) {
    if (existing.has(index.IndexName)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: input.AttributeDefinitions,
        GlobalSecondaryIndexUpdates: [
          {
            Create: { IndexName: index.IndexName, KeySchema: index.KeySchema, Projection: index.Projection },
          },
        ],
      }),
    );
  }
};
