/** Unread counts (shared/domain/unread.ts): the one formula chats, chat lists and GET /v1/unread use. */
import { describe, expect, it } from 'vitest';
import { unreadCount } from '../../shared/domain/unread.ts';

describe('unreadCount', () => {
  it('counts the messages after the read position', () => {
    expect(unreadCount(10, 7)).toBe(3);
    expect(unreadCount(10, 0)).toBe(10);
  });

  it('is zero when everything is read', () => {
    expect(unreadCount(10, 10)).toBe(0);
  });

  it('is never negative when the read position is ahead of the last seq', () => {
    expect(unreadCount(5, 8)).toBe(0);
  });
});
