/**
 * Mentions on the client: a message's text as parts, the `@userId` of each user in its `mentions` list
 * marked, for the web apps to render as text (never parsed into markup). Only ids in the list are
 * mentions: an `@name` typed in the text without being picked stays plain text.
 *
 *   for (const part of splitMentions(message.text, message.mentions))
 *     p.append(part.userId ? mentionElement(part.text, part.userId) : part.text);
 */

/** A piece of a message's text: plain, or the `@userId` of a mentioned user. */
export interface MentionPart {
  text: string;
  userId?: string;
}

/** What may touch an `@userId` on either side without ending it (user id characters; `.` `:` only inside). */
const BEFORE = /[\w.:@|-]/;
const AFTER = /[.:]*[\w@|-]/y;

/**
 * `text` cut into plain parts and the `@userId` parts of the users in `mentions`: each occurrence after
 * the start or a character that cannot be in an id, and up to one that cannot go on (so of two listed
 * ids, `@ann` never matches in `@ann-lee`). A listed user whose `@userId` is not in the text has no part.
 */
export const splitMentions = (text: string, mentions: readonly string[] = []): MentionPart[] => {
  const parts: MentionPart[] = [];
  let plain = '';
  for (let at = 0; at < text.length;) {
    const userId =
      text[at] === '@' && !BEFORE.test(text[at - 1] ?? '')
        ? mentions.find(
            (id) =>
              text.startsWith(id, at + 1) && ((AFTER.lastIndex = at + 1 + id.length), !AFTER.test(text)),
          )
        : undefined;
    if (userId) {
      parts.push({ text: plain }, { text: `@${userId}`, userId });
      plain = '';
      at += userId.length + 1;
    } else plain += text[at++];
  }
  parts.push({ text: plain });
  return parts.filter((part) => part.text);
};
