import { ForbiddenError, NotFoundError, RateLimitedError } from './errors.ts';
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
  /**
   * A browser (which sends Origin) must be on the tenant's allowed widget origins when the tenant lists
   * any; server-side callers send no Origin.
   */
  async create(
    input: { tenantId: string; name?: string; email?: string },
    request: { sourceIp: string; origin?: string | undefined },
  ): Promise<{ visitorId: string; token: string; expiresAt: string }> {
    if (!(await this.limiter.hit(`visitors#${input.tenantId}#${request.sourceIp}`, this.perMinute, 60))) {
      throw new RateLimitedError('too many visitors from this address, try again in a minute');
    }
    const tenant = await this.tenants.get(input.tenantId);
    if (!tenant) throw new NotFoundError('tenant');
    const origins = tenant.allowedOrigins;
    if (request.origin && origins.length > 0 && !origins.includes('*') && !origins.includes(request.origin)) {
      throw new ForbiddenError(`origin ${request.origin} is not allowed for tenant ${tenant.tenantId}`);
    }
    const visitorId = newId('v');
    const { token, expiresAt } = await this.signer.signVisitor(input.tenantId, visitorId, input.name);
    return { visitorId, token, expiresAt: expiresAt.toISOString() };
  }
}
