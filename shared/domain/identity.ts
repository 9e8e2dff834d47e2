import { newId } from './ids.ts';
import type { Role } from './schemas.ts';

/** Who is calling, as established by a verified token or a consumed ticket. */
export interface Identity {
  readonly tenantId: string;
  readonly userId: string;
  /** The caller's kind too: `visitor` for the widget's anonymous visitors, any other role for hosts. */
  readonly role: Role;
  readonly name?: string;
}

/**
 * Visitor ids are `v_` and 20 lower-case letters or digits, minted by this project alone
 * (POST /v1/visitors). That form is reserved: a host token (users, agents, services) whose subject has
 * it is refused, so a host can never share an id with a visitor, and never inherit a visitor's chats.
 */
const VISITOR_ID = /^v_[0-9a-z]{20}$/;
const VISITOR_PREFIX = 'v';

export const newVisitorId = (): string => newId(VISITOR_PREFIX);

export const isVisitorId = (id: string): boolean => VISITOR_ID.test(id);

/** Agents and services see every chat of their tenant; visitors and users only chats they belong to. */
export const isStaff = (identity: Identity): boolean =>
  identity.role === 'agent' || identity.role === 'service';
