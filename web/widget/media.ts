/**
 * /widget-media.js: what the widget loads on first use only (an ES module, imported by media-loader.ts
 * from the origin that served /widget.js), so /widget.js stays small: the emoji picker and the voice
 * recorder (web/shared-ui, shared with the console). Positional arguments: the two bundles shorten their
 * internal property names each on its own, so nothing named with `_` crosses between them.
 */
import { closeEmojiPicker, insertAtCaret, openEmojiPicker, pickerOpenFor } from '../shared-ui/picker.ts';
import { recordVoice } from '../shared-ui/recorder.ts';

/** "Insert emoji": the picker in `parent` before `before` (open: closed); a pick goes to the caret of `input`. */
export const emoji = (
  opener: HTMLElement,
  parent: HTMLElement,
  before: Node,
  input: HTMLTextAreaElement,
): void =>
  pickerOpenFor(opener)
    ? closeEmojiPicker()
    : openEmojiPicker({ opener, parent, before, onPick: (e) => insertAtCaret(input, e) });

/** "Add reaction": the picker at the end of `parent` (`onPick` undefined: closed). */
export const react = (opener: HTMLElement, parent: HTMLElement, onPick?: (emoji: string) => void): void =>
  onPick ? openEmojiPicker({ opener, parent, onPick }) : closeEmojiPicker();

/** "Record voice message": the recording bar in `parent` before `before`. */
export const voice = (
  opener: HTMLElement,
  parent: HTMLElement,
  before: Node,
  onSend: (file: File) => void,
  onError: (cause: unknown) => void,
): Promise<void> => recordVoice({ opener, parent, before, onSend, onError });
