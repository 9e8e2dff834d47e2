/**
 * Keyboard shortcuts (listed in the page's "Keyboard shortcuts" panel):
 *
 * - Alt+ArrowDown / Alt+ArrowUp: next / previous conversation
 * - Alt+M or `/` (outside a text field): focus the message composer
 * - Alt+A (outside a text field): assign the selected conversation to me
 * - Escape in the composer: back to the conversation list
 */
export interface ShortcutActions {
  step(direction: 1 | -1): void;
  focusComposer(): void;
  assignToMe(): void;
  focusList(): void;
}

const editable = (target: EventTarget | null): boolean =>
  target instanceof HTMLElement &&
  (target.isContentEditable || ['INPUT', 'TEXTAREA', 'SELECT'].includes(target.tagName));

export const installShortcuts = (actions: ShortcutActions): (() => void) => {
  const onKey = (event: KeyboardEvent) => {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey) return;
    const plain = !event.altKey && !event.shiftKey;
    const inField = editable(event.target);
    let handled = true;
    if (event.altKey && event.key === 'ArrowDown') actions.step(1);
    else if (event.altKey && event.key === 'ArrowUp') actions.step(-1);
    // Alt+letter types a character in some layouts (macOS: µ, å): not inside a text field.
    else if (event.altKey && !inField && event.code === 'KeyM') actions.focusComposer();
    else if (event.altKey && !inField && event.code === 'KeyA') actions.assignToMe();
    else if (plain && event.key === '/' && !inField) actions.focusComposer();
    else if (plain && event.key === 'Escape' && (event.target as HTMLElement | null)?.id === 'composer-input')
      actions.focusList();
    else handled = false;
    if (handled) event.preventDefault();
  };
  document.addEventListener('keydown', onKey);
  return () => document.removeEventListener('keydown', onKey);
};
