/**
 * The composer's "Insert emoji" (the shared emoji picker above the composer; the pick goes to the caret)
 * and "Record voice message" (the shared recorder's bar above the composer; the recording is uploaded
 * and sent like an attached file, to the chat it was recorded in). Both from web/shared-ui, as in the
 * widget.
 */
import { closeEmojiPicker, insertAtCaret, openEmojiPicker, pickerOpenFor } from '../shared-ui/picker.ts';
import { recordVoice } from '../shared-ui/recorder.ts';
import { byId, errorText } from './dom.ts';

export const createComposerMedia = (options: {
  composer: HTMLFormElement;
  input: HTMLTextAreaElement;
  sendFile: (file: File, to?: { chatId: string }) => void;
  showError: (text?: string) => void;
  /** The chat open now. */
  openChat: () => string | undefined;
}): void => {
  const { composer, input, sendFile, showError, openChat } = options;
  const parent = composer.parentElement ?? document.body;
  const emoji = byId<HTMLButtonElement>('insert-emoji');
  const mic = byId<HTMLButtonElement>('record-voice');
  emoji.addEventListener('click', () =>
    pickerOpenFor(emoji)
      ? closeEmojiPicker()
      : openEmojiPicker({
          opener: emoji,
          parent,
          before: composer,
          onPick: (picked) => insertAtCaret(input, picked),
        }),
  );
  mic.addEventListener('click', () => {
    showError();
    const chatId = openChat();
    if (!chatId) return;
    void recordVoice({
      opener: mic,
      parent,
      before: composer,
      onSend: (file) => sendFile(file, { chatId }),
      onError: (cause) => showError(`Could not record: ${errorText(cause)}`),
    });
  });
};
