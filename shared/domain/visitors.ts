import { NotFoundError, RateLimitedError } from './errors.ts';
import { newId } from './ids.ts';
import type { RateLimiter, TenantStore } from './ports.ts';

export interface VisitorSigner {
  signVisitor(
    tenantId: string,
    visitorId: string,
    name?: string,
  ): Promise<{ token: string; expiresAt: Date }>;
}

export class VisitorService {
  constructor(
    private readonly tenants: TenantStore,
    private readonly limiter: RateLimiter,
    private readonly signer: VisitorSigner,
    private readonly perMinute: number,
  ) {}

  /** Public: an anonymous widget visitor of a known tenant, rate limited per source address. */
  async create(
    input: { tenantId: string; name?: string; email?: string },
    sourceIp: string,
  ): Promise<{ visitorId: string; token: string; expiresAt: string }> {
    if (!(await this.limiter.hit(`visitors#${input.tenantId}#${sourceIp}`, this.perMinute, 60))) {
      throw new RateLimitedError('too many visitors from this address, try again in a minute');
    }
    if (!(await this.tenants.get(input.tenantId))) throw new NotFoundError('tenant');
    const visitorId = newId('v');
    const { token, expiresAt } = await this.signer.signVisitor(input.tenantId, visitorId, input.name);
    return { visitorId, token, expiresAt: expiresAt.toISOString() };
  }
}
