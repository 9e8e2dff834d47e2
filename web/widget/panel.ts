/**
 * The panel: open, close and toggle (the launcher's `aria-expanded`, the host's `open` / `close`
 * events), Escape to close with focus back on the launcher, and Tab kept inside while it is open.
 */
import type { Ctx } from './context.ts';
import { scrollToEnd } from './context.ts';
import { tabbables } from './dom.ts';
import { stopTyping } from './typing.ts';
import { refreshUnread } from './unread.ts';

/** Shows or hides the panel; true when that changed something. */
const show = (w: Ctx, open: boolean): boolean => {
  if (!w.isOpen_ === !open) return false;
  w.isOpen_ = open;
  w.v_.panel_.hidden = !open;
  w.v_.launcher_.setAttribute('aria-expanded', String(open));
  return true;
};

export const open = (w: Ctx): void => {
  if (!show(w, true)) return;
  scrollToEnd(w);
  refreshUnread(w);
  w.v_.input_.focus();
  w.emit_('open');
};

export const close = (w: Ctx): void => {
  const v = w.v_;
  const focused = v.root_.activeElement;
  if (!show(w, false)) return;
  stopTyping(w);
  // A recording in progress is cancelled: the microphone is released with the panel.
  v.root_.querySelector<HTMLButtonElement>('.su-rec button')?.click();
  if (focused) v.launcher_.focus();
  refreshUnread(w);
  w.emit_('close');
};

export const toggle = (w: Ctx): void => (w.isOpen_ ? close : open)(w);

/** Keys while the panel is open: Escape closes it, Tab stays in the panel (and its launcher). */
export const onKey = (w: Ctx, e: KeyboardEvent): void => {
  const v = w.v_;
  if (!w.isOpen_) return;
  if (e.key === 'Escape') {
    e.preventDefault();
    e.stopPropagation();
    close(w);
    v.launcher_.focus();
  } else if (e.key === 'Tab') {
    const stops = [...tabbables(v.panel_), v.launcher_];
    const first = stops[0];
    const last = stops[stops.length - 1];
    const active = v.root_.activeElement;
    if (e.shiftKey ? active === first : active === last) {
      e.preventDefault();
      (e.shiftKey ? last : first)?.focus();
    }
  }
};
