/** The browser SDK (served as /sdk/chat.js): see client.ts and docs/protocol.md. */
export { ChatClient, DEFAULT_TIMING } from './client.ts';
export {
  ApiError,
  createVisitor,
  devToken,
  getWidgetSettings,
  isRetryable,
  loadConfig,
  refreshVisitor,
  requestJson,
} from './http.ts';
export { type MentionPart, splitMentions } from './mentions.ts';
export { applyParentDeleted, applyReaction, applyUpdate, QUICK_REACTIONS } from './reactions.ts';
export type * from './types.ts';
