/**
 * What a read adds to stored messages: each message's reaction counts from the reader's point of view
 * (`mine`), and replies' quotes masked when their parent has been deleted since. One Query of the
 * page's reactions (a BatchGet when the page's seqs are sparse, as in a thread) and one BatchGet of the
 * quoted parents that are not in the page.
 */
import type { ReactionStore, ReactionRecord, ThreadStore } from './ports.ts';
import { reactionCounts } from './reactions.ts';
import type { Message } from './schemas.ts';
import { maskQuote } from './threads.ts';

export class MessageAnnotator {
  constructor(
    private readonly reactions: Pick<ReactionStore, 'inRange' | 'bySeqs'>,
    private readonly threads: Pick<ThreadStore, 'deletedAmong'>,
  ) {}

  /** `quotes: false` when the caller has masked the quotes already (a thread's page). */
  async annotate(
    viewerId: string,
    chatId: string,
    messages: readonly Message[],
    options: { quotes?: boolean } = {},
  ): Promise<Message[]> {
    if (messages.length === 0) return [];
    const seqs = messages.map((message) => message.seq);
    const from = Math.min(...seqs);
    const to = Math.max(...seqs);
    const inPage = new Map(messages.map((message) => [message.seq, message]));
    const quoted =
      options.quotes === false ? [] : messages.flatMap((m) => (m.replyTo ? [m.replyTo.seq] : []));
    const [records, deletedElsewhere] = await Promise.all([
      to - from + 1 <= 2 * messages.length
        ? this.reactions.inRange(chatId, from, to)
        : this.reactions.bySeqs(chatId, seqs),
      this.threads.deletedAmong(
        chatId,
        quoted.filter((seq) => !inPage.has(seq)),
      ),
    ]);
    const bySeq = new Map<number, ReactionRecord>(records.map((record) => [record.seq, record]));
    return messages.map((message) => {
      const record = bySeq.get(message.seq);
      const counts = record ? reactionCounts(record, viewerId) : [];
      const parent = message.replyTo ? inPage.get(message.replyTo.seq) : undefined;
      const parentDeleted = message.replyTo
        ? parent
          ? parent.deletedAt !== undefined
          : deletedElsewhere.has(message.replyTo.seq)
        : false;
      const shown = parentDeleted ? maskQuote(message) : message;
      return counts.length > 0 ? { ...shown, reactions: counts } : shown;
    });
  }
}
