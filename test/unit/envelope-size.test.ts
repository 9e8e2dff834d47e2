/**
 * Size bounds (shared/domain/envelope-size.ts): a socket frame over API Gateway's 128 KB becomes a small
 * "fetch it" notice, and a polling page stops at its byte budget without skipping anything.
 */
import { fc, test } from '@fast-check/vitest';
import { describe, expect, it } from 'vitest';
import { boundPage, type EventsPage, FRAME_MAX_BYTES, frameOf } from '../../shared/domain/envelope-size.ts';
import { messageCreated } from '../../shared/domain/envelopes.ts';
import type { Chat, Envelope, Message } from '../../shared/domain/schemas.ts';

const CHAT_ID = 'ch_aaaaaaaaaaaaaaaaaaaa';
const message = (seq: number, text = `m${seq}`): Message =>
  ({
    messageId: `m_${seq}`,
    chatId: CHAT_ID,
    tenantId: 'demo',
    seq,
    senderId: 'alice',
    senderRole: 'user',
    type: 'text',
    text,
    createdAt: new Date(Date.UTC(2026, 11, 4, 10, 0, seq)).toISOString(),
  }) as Message;
const chatUpdated = (eventSeq: number, participants: number): Envelope => ({
  type: 'chat.updated',
  id: `${CHAT_ID}:event:${eventSeq}`,
  tenantId: 'demo',
  chatId: CHAT_ID,
  eventSeq,
  at: new Date(Date.UTC(2026, 11, 4, 10, 0, eventSeq)).toISOString(),
  data: {
    chatId: CHAT_ID,
    participants: Array.from({ length: participants }, (_, i) => ({
      userId: `${'u'.repeat(180)}-${i}`,
      role: 'user',
      joinedAt: '2026-12-04T10:00:00.000Z',
    })),
  } as unknown as Chat,
});

describe('frameOf', () => {
  it('posts an envelope within the frame limit as its own JSON', () => {
    // Prepare
    const envelope = messageCreated(message(7));

    // Act
    const frame = frameOf(envelope);

    // Assess
    expect(frame).toBe(JSON.stringify(envelope));
  });

  it('turns a chat.updated over 128 KB (hundreds of long participant ids) into a small notice that says where to fetch the chat', () => {
    // Prepare
    const envelope = chatUpdated(3, 700);
    const size = Buffer.byteLength(JSON.stringify(envelope));

    // Act
    const frame = frameOf(envelope);

    // Assess
    expect(size).toBeGreaterThan(FRAME_MAX_BYTES);
    expect(Buffer.byteLength(frame)).toBeLessThan(1024);
    expect(JSON.parse(frame)).toEqual({
      type: 'chat.updated',
      id: envelope.id,
      tenantId: 'demo',
      chatId: CHAT_ID,
      eventSeq: 3,
      at: envelope.at,
      data: { tooLarge: true, bytes: size, fetch: `/v1/chats/${CHAT_ID}` },
    });
  });

  it('counts bytes, not characters: a message of multi-byte text over the limit points at that one message', () => {
    // Prepare: 50,000 four-byte characters are 100,000 UTF-16 units but 200,000 bytes.
    const envelope = messageCreated(message(42, '😀'.repeat(50_000)));

    // Act
    const notice = JSON.parse(frameOf(envelope)) as Envelope;

    // Assess
    expect(notice).toMatchObject({
      type: 'message.created',
      seq: 42,
      data: { tooLarge: true, fetch: `/v1/chats/${CHAT_ID}/messages?after=41&limit=1` },
    });
  });
});

const pageOf = (items: Envelope[], after = 0, afterEvent = 0): EventsPage => ({
  items,
  nextAfter: Math.max(after, ...items.filter((e) => e.type === 'message.created').map((e) => e.seq ?? 0)),
  nextAfterEvent: Math.max(afterEvent, ...items.map((e) => e.eventSeq ?? 0)),
  hasMore: false,
});

describe('boundPage', () => {
  it('keeps a page under the budget as it is', () => {
    // Prepare
    const page = pageOf([1, 2, 3].map((seq) => messageCreated(message(seq))));

    // Act + Assess
    expect(boundPage(page, 10_000)).toBe(page);
  });

  it('stops at the budget, moves the cursors only past what it returns and says there is more', () => {
    // Prepare: three 60 KB chat events between messages, a 100 KB budget.
    const items = [
      messageCreated(message(1)),
      chatUpdated(1, 300),
      messageCreated(message(2)),
      chatUpdated(2, 300),
      messageCreated(message(3)),
      chatUpdated(3, 300),
    ].sort((a, b) => a.at.localeCompare(b.at));

    // Act
    const bounded = boundPage(pageOf(items), 100 * 1024);

    // Assess
    expect(bounded.items.map((e) => e.id)).toEqual([items[0]?.id, items[1]?.id, items[2]?.id]);
    expect(bounded).toMatchObject({ nextAfter: 2, nextAfterEvent: 1, hasMore: true });
  });

  test.prop([
    fc.array(fc.record({ message: fc.boolean(), kb: fc.integer({ min: 0, max: 40 }) }), {
      minLength: 1,
      maxLength: 30,
    }),
    fc.integer({ min: 1, max: 200 }),
  ])(
    'never skips an envelope: the next poll from its cursors returns exactly what was cut',
    (shape, budgetKb) => {
      // Prepare: messages and chat events in order, of random sizes.
      let seq = 0;
      let eventSeq = 0;
      const items = shape.map(({ message: isMessage, kb }): Envelope =>
        isMessage
          ? messageCreated(message(++seq, 'x'.repeat(kb * 1024)))
          : ({
              ...chatUpdated(++eventSeq, 0),
              data: { padding: 'y'.repeat(kb * 1024) },
            } as unknown as Envelope),
      );
      const page = pageOf(items);

      // Act
      const bounded = boundPage(page, budgetKb * 1024);
      const rest = items.filter((e) =>
        e.type === 'message.created'
          ? (e.seq ?? 0) > bounded.nextAfter
          : (e.eventSeq ?? 0) > bounded.nextAfterEvent,
      );

      // Assess
      expect([...bounded.items, ...rest].map((e) => e.id).sort()).toEqual(items.map((e) => e.id).sort());
      expect(bounded.items.length).toBeGreaterThan(0);
      if (bounded.items.length > 1)
        expect(Buffer.byteLength(JSON.stringify(bounded.items))).toBeLessThanOrEqual(budgetKb * 1024 + 1);
      if (bounded !== page) expect(bounded.hasMore).toBe(true);
    },
  );
});
