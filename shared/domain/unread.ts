/** A participant's unread count: the messages after their read position (never below zero). */
export const unreadCount = (lastSeq: number, lastReadSeq: number): number =>
  Math.max(0, lastSeq - lastReadSeq);
