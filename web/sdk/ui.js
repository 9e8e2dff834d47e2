/**
 * Small DOM helpers shared by the widget demo and the agent console (plain ES module, no build step):
 * elements by `data-testid`, the connection status line, the error line, one message row and a
 * composer form that sends a text and restores it when the send fails.
 */

export const byTestId = (id) => document.querySelector(`[data-testid="${id}"]`);

const STATUS_TEXT = {
  connecting: 'Connecting…',
  open: 'Online',
  reconnecting: 'Reconnecting…',
  closed: 'Offline',
};

/** Shows the SDK's connection status in `line` (its `data-state` too); `idle` reads as `idleText`. */
export const showStatus = (line, status, { idleText = 'Starting…', prefix = '' } = {}) => {
  line.dataset.state = status;
  line.textContent = `${prefix}${status === 'idle' ? idleText : (STATUS_TEXT[status] ?? status)}`;
};

/** A function that shows a message in `line`, or hides the line when called without one. */
export const errorReporter = (line) => (message) => {
  line.textContent = message ?? '';
  line.hidden = !message;
};

/** Appends one message to `list` (`who` names its sender) and scrolls to it. */
export const appendMessage = (list, message, { mine, who }) => {
  const item = document.createElement('li');
  item.className = mine ? 'mine' : 'theirs';
  item.dataset.testid = 'message';
  item.dataset.seq = String(message.seq);
  item.dataset.senderRole = message.senderRole;
  const sender = document.createElement('span');
  sender.className = 'who';
  sender.textContent = who;
  const text = document.createElement('span');
  text.className = 'text';
  text.dataset.testid = 'message-text';
  text.textContent = message.text ?? '';
  item.append(sender, text);
  list.append(item);
  list.scrollTop = list.scrollHeight;
};

/**
 * On submit, sends the trimmed text of `input` with `send(text)` (nothing when it is empty), clearing
 * the box first; a failed send is reported and its text put back.
 */
export const onCompose = (form, input, showError, send) => {
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = input.value.trim();
    if (!text) return;
    input.value = '';
    showError();
    try {
      await send(text);
    } catch (error) {
      showError(`Could not send: ${error.message}`);
      if (!input.value) input.value = text;
    }
  });
};
