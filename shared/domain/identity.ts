import type { Role } from './schemas.ts';

/** Who is calling, as established by a verified token or a consumed ticket. */
export interface Identity {
  readonly tenantId: string;
  readonly userId: string;
  readonly role: Role;
  readonly name?: string;
}

/** Agents and services see every chat of their tenant; visitors and users only chats they belong to. */
export const isStaff = (identity: Identity): boolean =>
  identity.role === 'agent' || identity.role === 'service';
