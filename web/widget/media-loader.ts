/**
 * The widget's emoji picker and voice recorder, from /widget-media.js (built from media.ts), imported on
 * the first click of "Insert emoji", "Add reaction" or "Record voice message" from the origin /widget.js
 * was served from. A failed import shows the usual error and is tried again on the next click.
 */
import { type Ctx, showError } from './context.ts';
import type * as Media from './media.ts';

export type MediaModule = typeof Media;

export const withMedia = (w: Ctx, fn: (m: MediaModule) => unknown): void =>
  void (w.media_ ??= (
    import(new URL('/widget-media.js', w.src_ || location.href).href) as Promise<MediaModule>
  ).catch((error: unknown) => {
    w.media_ = undefined;
    throw error;
  })).then(fn, () => showError(w, w.s_.failed));
