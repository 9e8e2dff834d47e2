/**
 * The emoji picker of both apps: a `listbox` of the recently used emoji then the built-in groups, eight
 * a row. The listbox keeps the focus and points at its active option (`aria-activedescendant`): arrows,
 * Home and End move, Enter (or a click) picks, Escape closes and gives the focus back to the opener.
 * One picker at a time; a click outside closes it.
 */
import { GRID_KEYS, type GridKey, loadRecent, moveInGrid, pickerGroups, rememberRecent } from './emoji.ts';
import { adoptStyles, el } from './ui.ts';

const COLS = 8;
let open: { close: (refocus: boolean) => void; opener: HTMLElement } | undefined;
let ids = 0;

export interface PickerOptions {
  /** The control that opened it: the focus returns to it. */
  readonly opener: HTMLElement;
  /** The picker is inserted into `parent`, before `before` (default: at its end). */
  readonly parent: HTMLElement;
  readonly before?: Node | null;
  readonly onPick: (emoji: string) => void;
}

/** Whether a picker opened by `opener` is showing. */
export const pickerOpenFor = (opener: HTMLElement): boolean => open?.opener === opener;

export const closeEmojiPicker = (): void => open?.close(false);

/** Opens the picker (closing another one) with its first emoji active. */
export const openEmojiPicker = (options: PickerOptions): void => {
  open?.close(false);
  const { opener, parent } = options;
  const prefix = `su-e${++ids}-`;
  const groups = pickerGroups(loadRecent());
  const all = groups.flatMap((g) => g.emoji);
  const sizes = groups.map((g) => g.emoji.length);
  let active = 0;
  let n = 0;
  const list = el('div', {
    class: 'su-list',
    role: 'listbox',
    tabindex: 0,
    'aria-label': 'Emoji',
    'aria-activedescendant': `${prefix}0`,
  });
  for (const group of groups) {
    const box = el(
      'div',
      { class: 'su-group', role: 'group', 'aria-label': group.label },
      el('span', { class: 'su-label', 'aria-hidden': 'true' }, group.label),
    );
    for (const emoji of group.emoji) {
      const index = n++;
      const option = el(
        'div',
        { class: 'su-option', role: 'option', id: `${prefix}${index}`, 'aria-selected': index === 0 },
        emoji,
      );
      option.addEventListener('click', () => pick(index));
      box.append(option);
    }
    list.append(box);
  }
  const panel = el('div', { class: 'su-picker', role: 'dialog', 'aria-label': 'Emoji picker' }, list);
  const option = (index: number) => list.querySelector<HTMLElement>(`[id="${prefix}${index}"]`);
  const activate = (index: number) => {
    option(active)?.setAttribute('aria-selected', 'false');
    active = index;
    const next = option(index);
    next?.setAttribute('aria-selected', 'true');
    list.setAttribute('aria-activedescendant', `${prefix}${index}`);
    next?.scrollIntoView?.({ block: 'nearest' });
  };
  const close = (refocus: boolean) => {
    if (open?.close !== close) return;
    open = undefined;
    panel.remove();
    document.removeEventListener('click', outside, true);
    if (refocus) opener.focus();
  };
  const pick = (index: number) => {
    const emoji = all[index];
    if (!emoji) return;
    rememberRecent(emoji);
    close(true);
    options.onPick(emoji);
  };
  const outside = (event: Event) => {
    const path = event.composedPath();
    if (!path.includes(panel) && !path.includes(opener)) close(false);
  };
  list.addEventListener('keydown', (event) => {
    if (GRID_KEYS.includes(event.key)) activate(moveInGrid(active, event.key as GridKey, sizes, COLS));
    else if (event.key === 'Enter' || event.key === ' ') pick(active);
    else if (event.key === 'Escape') close(true);
    else return;
    event.preventDefault();
    event.stopPropagation();
  });
  adoptStyles(parent.getRootNode());
  parent.insertBefore(panel, options.before ?? null);
  // On click, not pointerdown: closing reflows the row, and a press there must still land where it began.
  document.addEventListener('click', outside, true);
  open = { close, opener };
  list.focus();
};

/** Puts `text` at the caret of `input` (replacing a selection), as if typed, and focuses it. */
export const insertAtCaret = (input: HTMLTextAreaElement | HTMLInputElement, text: string): void => {
  const start = input.selectionStart ?? input.value.length;
  const end = input.selectionEnd ?? start;
  input.setRangeText(text, start, end, 'end');
  input.dispatchEvent(new Event('input', { bubbles: true }));
  input.focus();
};
