/**
 * Lambda's tumbling windows for stream event sources (`TumblingWindowInSeconds` on the mapping): each
 * invocation of a window carries the state the previous one returned, the response must carry a `state`
 * (Lambda counts a response without one as a failed invocation), and at the window's end Lambda invokes
 * the function once more with `isFinalInvokeForWindow` so it can act on the aggregate; then the state is
 * dropped. A window cut short (its state over 1 MB per shard) says `isWindowTerminatedEarly`: the window
 * goes on with a fresh state, so that aggregate must be acted on too.
 * https://docs.aws.amazon.com/lambda/latest/dg/services-ddb-windows.html
 */
import * as z from '../zod.ts';

const windowFieldsSchema = z.object({
  // Any object: a windowed invocation must answer with a state, whatever its window says.
  window: z.object({}),
  state: z.catch(z.record(z.string(), z.unknown()), {}),
  isFinalInvokeForWindow: z.catch(z.boolean(), false),
  isWindowTerminatedEarly: z.catch(z.boolean(), false),
});

export interface StreamWindow {
  /** The state the window's previous invocation returned (`{}` on its first). */
  readonly state: Record<string, unknown>;
  /** This invocation ends the window's aggregate: act on it now, the next invocation starts afresh. */
  readonly closes: boolean;
}

/**
 * The window an invocation belongs to, or undefined when the mapping has no tumbling window (no
 * `window` in the event). A state that is not an object reads as `{}` and a flag that is not a boolean
 * as false: the invocation's records are delivered whatever its window fields say.
 */
export const streamWindowOf = (event: object): StreamWindow | undefined => {
  const parsed = windowFieldsSchema.safeParse(event);
  if (!parsed.success) return undefined;
  const { state, isFinalInvokeForWindow, isWindowTerminatedEarly } = parsed.data;
  return { state, closes: isFinalInvokeForWindow || isWindowTerminatedEarly };
};

/** What a windowed invocation returns besides its batch item failures. */
export interface WindowResponse {
  readonly state?: Record<string, unknown>;
}
