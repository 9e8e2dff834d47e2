import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { ENTITY } from '../../config/table.ts';
import type { TenantStore } from '../../domain/ports.ts';
import { type Tenant, tenantSchema } from '../../domain/schemas.ts';
import type { TableContext } from './client.ts';
import { keys } from './keys.ts';

export class DynamoTenantStore implements TenantStore {
  private readonly cache = new Map<string, { tenant: Tenant | undefined; until: number }>();

  constructor(
    private readonly table: TableContext,
    private readonly cacheMs = 30_000,
  ) {}

  async get(tenantId: string): Promise<Tenant | undefined> {
    const cached = this.cache.get(tenantId);
    if (cached && cached.until > Date.now()) return cached.tenant;
    const { Item: item } = await this.table.doc.send(
      new GetCommand({ TableName: this.table.tableName, Key: keys.tenant(tenantId) }),
    );
    const parsed = item ? tenantSchema.safeParse(item) : undefined;
    const tenant = parsed?.success ? parsed.data : undefined;
    this.cache.set(tenantId, { tenant, until: Date.now() + this.cacheMs });
    return tenant;
  }

  async put(tenant: Tenant): Promise<void> {
    await this.table.doc.send(
      new PutCommand({
        TableName: this.table.tableName,
        Item: { ...keys.tenant(tenant.tenantId), entity: ENTITY.tenant, ...tenant },
      }),
    );
    this.cache.delete(tenant.tenantId);
  }
}
