/**
 * Blocking, per tenant and per user: when X blocks Y, Y's messages to any chat X takes part in are
 * refused (403, nothing stored). Messages of agents and services are never refused (they serve the
 * tenant; a service posts system events), so blocking a staff id has no effect on them. Services act for
 * no person and cannot block.
 *
 * Bounded: a user blocks at most `maxBlocks` users (409 past it), and a block or unblock is audited in
 * at most AUDIT_SHARED_MAX of the chats the two users share, written a few at a time.
 */
import { ForbiddenError, ValidationError } from './errors.ts';
import { type Identity, isStaff } from './identity.ts';
import type { BlockStore, ChatStore, Clock, Page } from './ports.ts';
import type { Block } from './schemas.ts';

/** A user's block list holds at most this many users by default. */
export const MAX_BLOCKS = 1000;
/** A block or unblock is audited in at most this many shared chats (the most recently active first). */
export const AUDIT_SHARED_MAX = 25;
const AUDIT_BATCH = 5;

export class BlockService {
  constructor(
    private readonly store: BlockStore,
    private readonly clock: Clock,
    /** Audits blocks in the chats the two users share (the audit trail is per chat). */
    private readonly audit?: Pick<ChatStore, 'sharedChats' | 'recordAudit'>,
    private readonly maxBlocks = MAX_BLOCKS,
  ) {}

  private async auditShared(
    identity: Identity,
    userId: string,
    action: 'user.block' | 'user.unblock',
  ): Promise<void> {
    if (!this.audit) return;
    const at = this.clock.now().toISOString();
    const chatIds = await this.audit.sharedChats(
      identity.tenantId,
      identity.userId,
      userId,
      AUDIT_SHARED_MAX,
    );
    const record = (chatId: string) =>
      this.audit?.recordAudit({
        chatId,
        tenantId: identity.tenantId,
        at,
        actorId: identity.userId,
        actorRole: identity.role,
        action,
        ...(action === 'user.block' ? { after: { blocked: userId } } : { before: { blocked: userId } }),
      });
    const bounded = chatIds.slice(0, AUDIT_SHARED_MAX);
    for (let start = 0; start < bounded.length; start += AUDIT_BATCH)
      await Promise.all(bounded.slice(start, start + AUDIT_BATCH).map(record));
  }

  private static assertMayBlock(identity: Identity): void {
    if (identity.role === 'service') throw new ForbiddenError('services act for no user and cannot block');
  }

  async block(identity: Identity, userId: string): Promise<{ block: Block; created: boolean }> {
    BlockService.assertMayBlock(identity);
    if (userId === identity.userId)
      throw new ValidationError('you cannot block yourself', [
        { path: 'userId', message: 'must not be your own id' },
      ]);
    const result = await this.store.put(
      identity.tenantId,
      identity.userId,
      userId,
      this.clock.now().toISOString(),
      this.maxBlocks,
    );
    if (result.created) await this.auditShared(identity, userId, 'user.block');
    return result;
  }

  async unblock(identity: Identity, userId: string): Promise<void> {
    BlockService.assertMayBlock(identity);
    // Audited only when there was a block: repeated unblocks write nothing.
    if (await this.store.remove(identity.tenantId, identity.userId, userId))
      await this.auditShared(identity, userId, 'user.unblock');
  }

  async list(identity: Identity, limit: number, cursor?: string): Promise<Page<Block>> {
    BlockService.assertMayBlock(identity);
    return this.store.list(identity.tenantId, identity.userId, limit, cursor);
  }

  /**
   * Refuses a message when any other participant of the chat has blocked the sender. Staff senders are
   * never checked (no read at all). Otherwise one consistent read of the sender's blockers; only when
   * somebody has blocked the sender are the chat's participants read (`participantsOf`), to see whether
   * a blocker takes part in this chat.
   */
  async assertMayMessage(
    identity: Identity,
    participantsOf: () => Promise<readonly string[]>,
  ): Promise<void> {
    if (isStaff(identity)) return;
    const summary = await this.store.blockersOf(identity.tenantId, identity.userId);
    const blockers = summary.blockers.filter((userId) => userId !== identity.userId);
    if (blockers.length === 0 && !summary.overflow) return;
    const participants = (await participantsOf()).filter((userId) => userId !== identity.userId);
    const blocked =
      blockers.some((userId) => participants.includes(userId)) ||
      // More blockers than the summary names: ask the participants' block items.
      (summary.overflow && (await this.store.hasBlocked(identity.tenantId, participants, identity.userId)));
    if (blocked) throw new ForbiddenError('blocked: a participant of this chat has blocked you');
  }
}
