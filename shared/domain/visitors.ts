import { ForbiddenError, NotFoundError, RateLimitedError } from './errors.ts';
import { newVisitorId } from './identity.ts';
import { originAllowed } from './origins.ts';
import type { RateLimiter, TenantStore, VisitorSigner } from './ports.ts';
import type { Tenant, VisitorSession, WidgetSettings } from './schemas.ts';

/** Where a public request comes from: its address (rate limits) and the browser's Origin, if any. */
export interface PublicRequest {
  readonly sourceIp: string;
  readonly origin?: string | undefined;
}

export class VisitorService {
  constructor(
    private readonly tenants: TenantStore,
    private readonly limiter: RateLimiter,
    private readonly signer: VisitorSigner,
    private readonly perMinute: number,
  ) {}

  /**
   * Public: an anonymous widget visitor of a known tenant, rate limited per source address and tenant.
   * Returns a short-lived token and a long-lived refresh token that renews it for the same visitor.
   */
  async create(
    input: { tenantId: string; name?: string; email?: string },
    request: PublicRequest,
  ): Promise<VisitorSession> {
    await this.limit('visitors', input.tenantId, request.sourceIp);
    await this.allowedTenant(input.tenantId, request.origin);
    return this.session(input.tenantId, newVisitorId(), input.name);
  }

  /**
   * Public: a new token (and refresh token) for the visitor a refresh token names, same id and tenant,
   * so its chats carry on. 401 for a bad or expired refresh token, 404 when the tenant is gone, rate
   * limited like creation.
   */
  async refresh(refreshToken: string, request: PublicRequest): Promise<VisitorSession> {
    const claims = await this.signer.verifyVisitorRefresh(refreshToken);
    await this.limit('visitor-refresh', claims.tenantId, request.sourceIp);
    await this.allowedTenant(claims.tenantId, request.origin);
    return this.session(claims.tenantId, claims.visitorId, claims.name);
  }

  /** Public: what the widget shows before a visitor exists (name, theme, greeting, away text). */
  async widgetSettings(tenantId: string): Promise<WidgetSettings> {
    const tenant = await this.tenants.get(tenantId);
    if (!tenant) throw new NotFoundError('tenant');
    return {
      tenantId: tenant.tenantId,
      name: tenant.name,
      theme: tenant.theme,
      ...(tenant.greeting ? { greeting: tenant.greeting } : {}),
      ...(tenant.awayMessage ? { awayMessage: tenant.awayMessage } : {}),
    };
  }

  private async limit(kind: string, tenantId: string, sourceIp: string): Promise<void> {
    if (!(await this.limiter.hit(`${kind}#${tenantId}#${sourceIp}`, this.perMinute, 60)))
      throw new RateLimitedError('too many visitors from this address, try again in a minute');
  }

  /**
   * The tenant, which must exist; a browser (which sends Origin) must be on its allowed widget origins
   * when it lists any (shared/domain/origins.ts). Server-side callers send no Origin.
   */
  private async allowedTenant(tenantId: string, origin: string | undefined): Promise<Tenant> {
    const tenant = await this.tenants.get(tenantId);
    if (!tenant) throw new NotFoundError('tenant');
    if (origin && !originAllowed(tenant.allowedOrigins, origin))
      throw new ForbiddenError(`origin ${origin} is not allowed for tenant ${tenant.tenantId}`);
    return tenant;
  }

  private async session(tenantId: string, visitorId: string, name?: string): Promise<VisitorSession> {
    const [access, refresh] = await Promise.all([
      this.signer.signVisitor(tenantId, visitorId, name),
      this.signer.signVisitorRefresh(tenantId, visitorId, name),
    ]);
    return {
      visitorId,
      token: access.token,
      expiresAt: access.expiresAt.toISOString(),
      refreshToken: refresh.token,
    };
  }
}
