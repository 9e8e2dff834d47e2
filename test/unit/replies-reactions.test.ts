/** The pure parts of replies and reactions: quotes, masking, emoji validation, records and envelopes. */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { reactionCounts, reactionEnvelope, reactionRecordOf } from '../../shared/domain/reactions.ts';
import { emojiSchema, type Message } from '../../shared/domain/schemas.ts';
import { maskQuote, QUOTE_MAX_CHARS, quoteOf } from '../../shared/domain/threads.ts';

const parent: Message = {
  messageId: 'm_0123456789ab_7',
  chatId: 'ch_0123456789abcdefghij',
  tenantId: 'acme',
  seq: 7,
  clientMessageId: 'c7',
  senderId: 'alice',
  senderRole: 'user',
  type: 'text',
  text: 'hello',
  createdAt: '2026-12-03T10:00:00.000Z',
};

describe('reply quotes', () => {
  it('keeps the first 200 characters, never splitting an emoji', () => {
    const text = `${'😀'.repeat(150)}${'a'.repeat(100)}`;

    const quote = quoteOf({ ...parent, text });

    expect([...(quote.text ?? '')]).toHaveLength(QUOTE_MAX_CHARS);
    expect(quote.text).toBe(`${'😀'.repeat(150)}${'a'.repeat(50)}`);
    expect(quote).toMatchObject({ messageId: parent.messageId, seq: 7, senderId: 'alice' });
  });

  it('quotes a file without caption by its name', () => {
    const file: Message = {
      ...parent,
      type: 'file',
      text: '',
      attachment: {
        attachmentId: 'att_0123456789abcdefghij',
        fileName: 'invoice.pdf',
        contentType: 'application/pdf',
        size: 10,
        kind: 'file',
      },
    };

    expect(quoteOf(file).text).toBe('invoice.pdf');
  });

  it('masks a quote to who, not what, and leaves other messages alone', () => {
    const reply: Message = { ...parent, seq: 8, replyTo: quoteOf(parent) };

    expect(maskQuote(reply).replyTo).toEqual({
      messageId: parent.messageId,
      seq: 7,
      senderId: 'alice',
      deleted: true,
    });
    expect(maskQuote(parent)).toBe(parent);
  });
});

describe('emoji', () => {
  it.each(['👍', '❤️', '👍🏽', '👨‍👩‍👧', '🇫🇷', '1️⃣', '🏳️‍🌈'])('accepts %s', (emoji) => {
    expect(emojiSchema.safeParse(emoji).success).toBe(true);
  });

  it.each(['', 'a', 'ok', '👍👍', '👍 ', '❤', '<b>', '1'])('refuses %j', (value) => {
    expect(emojiSchema.safeParse(value).success).toBe(false);
  });

  test.prop([fc.string({ minLength: 0, maxLength: 40 })])('refuses any plain text', (text) => {
    fc.pre(!/\p{Extended_Pictographic}|\p{Regional_Indicator}/u.test(text));
    expect(emojiSchema.safeParse(text).success).toBe(false);
  });
});

describe('reaction records', () => {
  const item = {
    chatId: parent.chatId,
    tenantId: 'acme',
    seq: 7,
    messageId: parent.messageId,
    version: 3,
    emojis: new Set(['👍', '❤️', '🎉']),
    'u:❤️': new Set(['bob']),
    'f:❤️': '2026-12-03T10:00:02.000Z',
    'u:👍': new Set(['carol', 'bob']),
    'f:👍': '2026-12-03T10:00:01.000Z',
    // 🎉 was taken back by its only user: its set is gone.
    'f:🎉': '2026-12-03T10:00:00.000Z',
    last: { userId: 'carol', emoji: '👍', reacted: true, at: '2026-12-03T10:00:03.000Z' },
  };

  it('orders emoji by first use, drops those nobody uses and counts users', () => {
    const record = reactionRecordOf(item);

    expect(record.entries).toEqual([
      { emoji: '👍', users: ['bob', 'carol'] },
      { emoji: '❤️', users: ['bob'] },
    ]);
    expect(reactionCounts(record, 'carol')).toEqual([
      { emoji: '👍', count: 2, mine: true },
      { emoji: '❤️', count: 1, mine: false },
    ]);
  });

  it('makes one envelope per version, the same for everyone', () => {
    const envelope = reactionEnvelope(reactionRecordOf(item));

    expect(envelope).toEqual({
      type: 'reaction',
      id: `${parent.chatId}:reaction:7:3`,
      tenantId: 'acme',
      chatId: parent.chatId,
      at: '2026-12-03T10:00:03.000Z',
      data: {
        messageId: parent.messageId,
        seq: 7,
        userId: 'carol',
        emoji: '👍',
        reacted: true,
        reactions: [
          { emoji: '👍', count: 2 },
          { emoji: '❤️', count: 1 },
        ],
        version: 3,
      },
    });
  });
});
