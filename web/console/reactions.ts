/**
 * Reactions in the message view: a row of toggles, one per emoji with its count (`aria-pressed`: the
 * agent's own), and "Add reaction" (with the message's other controls) opening the quick emoji and the
 * emoji picker (web/shared-ui) in it. The pane's side: the agent's reactions sent (PUT / DELETE
 * …/reactions/{emoji}) and every change (the API's answers, `reaction` events) applied to the message
 * shown, in version order (applyReaction).
 */
import {
  applyReaction,
  type ChatClient,
  type Message,
  QUICK_REACTIONS,
  type ReactionChange,
} from '../sdk/index.ts';
import { closeEmojiPicker, openEmojiPicker } from '../shared-ui/picker.ts';
import { errorText, h } from './dom.ts';

/** The reactions row of a message (hidden while it has none and the quick emoji are closed) and its "Add reaction". */
export const renderReactions = (
  message: Message,
  onReact: (emoji: string, on: boolean) => void,
): { row: HTMLElement; add: HTMLElement } => {
  const button = (label: string, attrs: Record<string, string>, onClick: () => void) => {
    const element = h('button', { type: 'button', ...attrs }, label);
    element.addEventListener('click', onClick);
    return element;
  };
  // The same focus key for an emoji's toggle and its quick pick: after a pick, the toggle gets the focus.
  const chips = (message.reactions ?? []).map(({ emoji, count, mine }) =>
    button(
      `${emoji} ${count}`,
      {
        class: 'reaction',
        'aria-pressed': String(mine === true),
        'aria-label': `${emoji} ${count}, react`,
        'data-focus-key': `reaction:${emoji}`,
      },
      () => onReact(emoji, mine !== true),
    ),
  );
  const picker = h(
    'span',
    { class: 'reaction-picker', role: 'group', 'aria-label': 'Quick reactions', hidden: true },
    ...QUICK_REACTIONS.map((emoji) =>
      button(emoji, { class: 'reaction', 'data-focus-key': `reaction:${emoji}` }, () => onReact(emoji, true)),
    ),
  );
  const add = button(
    'Add reaction',
    { class: 'link-button', 'aria-expanded': 'false', 'data-focus-key': 'reaction-add' },
    () => {
      picker.hidden = !picker.hidden;
      row.hidden = chips.length === 0 && picker.hidden;
      add.setAttribute('aria-expanded', String(!picker.hidden));
      // Every emoji: the shared picker under the quick ones.
      if (picker.hidden) closeEmojiPicker();
      else openEmojiPicker({ opener: add, parent: row, onPick: (emoji) => onReact(emoji, true) });
    },
  );
  const row = h(
    'div',
    { class: 'msg-reactions', 'data-testid': 'reactions', hidden: chips.length === 0 },
    ...chips,
    picker,
  );
  return { row, add };
};

export interface Reactions {
  /** Adds (`on`) or takes back the agent's reaction to a message. */
  react(message: Message, emoji: string, on: boolean): void;
  /** Another chat. */
  reset(): void;
}

export const createReactions = (options: {
  client: ChatClient;
  me: string;
  /** The open chat's message of this seq, as shown. */
  shown: (chatId: string, seq: number) => Message | undefined;
  show: (message: Message) => void;
  showError: (text: string) => void;
}): Reactions => {
  const { client, me, shown, show } = options;
  /** Per messageId, the version of the last change applied. */
  const versions = new Map<string, number>();
  const apply = (chatId: string, change: ReactionChange) => {
    const message = shown(chatId, change.seq);
    const next = message && applyReaction(message, change, me, versions);
    if (next && next !== message) show(next);
  };
  client.on('reaction', (change) => apply(change.chatId, change));
  return {
    react: (message, emoji, on) => {
      const { chatId, messageId } = message;
      (on ? client.react(chatId, messageId, emoji) : client.unreact(chatId, messageId, emoji)).then(
        (change) => apply(chatId, change),
        (cause: unknown) => options.showError(`Could not react: ${errorText(cause)}`),
      );
    },
    reset: () => versions.clear(),
  };
};
