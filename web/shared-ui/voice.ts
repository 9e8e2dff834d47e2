/**
 * Voice messages' pure parts (no DOM): which recording format to ask MediaRecorder for, the upload's
 * content type and file name, and how durations are written ("0:02" under a message, "00:02" while
 * recording).
 */

export interface VoiceFormat {
  /** What MediaRecorder is asked for, codecs included. */
  readonly mimeType: string;
  /** The upload's content type: no parameters (the API's allowed list holds bare types). */
  readonly contentType: 'audio/webm' | 'audio/ogg' | 'audio/mp4';
  readonly extension: 'webm' | 'ogg' | 'm4a';
}

/** In order of preference: Opus in WebM (Chromium, Firefox), Opus in Ogg (Firefox), then MP4 (Safari). */
export const VOICE_FORMATS: readonly VoiceFormat[] = [
  { mimeType: 'audio/webm;codecs=opus', contentType: 'audio/webm', extension: 'webm' },
  { mimeType: 'audio/ogg;codecs=opus', contentType: 'audio/ogg', extension: 'ogg' },
  { mimeType: 'audio/mp4', contentType: 'audio/mp4', extension: 'm4a' },
];

/** The first format the browser records (MediaRecorder.isTypeSupported), or undefined. */
export const chooseVoiceFormat = (isTypeSupported: (type: string) => boolean): VoiceFormat | undefined =>
  VOICE_FORMATS.find((format) => {
    try {
      return isTypeSupported(format.mimeType);
    } catch {
      return false;
    }
  });

/** A recording stops (and is sent) after five minutes. */
export const MAX_RECORDING_MS = 5 * 60 * 1000;

/** `voice-<timestamp>.<ext>`, e.g. voice-20261203T221500Z.webm. */
export const voiceFileName = (format: VoiceFormat, now: Date = new Date()): string =>
  `voice-${now.toISOString().replace(/[-:]/g, '').replace(/\.\d+/, '')}.${format.extension}`;

const two = (n: number): string => String(n).padStart(2, '0');

/** A message's duration, "m:ss" ("0:02", "4:59"; "1:00:00" from an hour on), rounded to the second. */
export const formatDuration = (ms: number): string => {
  const total = Math.max(0, Math.round(ms / 1000));
  const h = Math.floor(total / 3600);
  const m = Math.floor(total / 60) % 60;
  const s = two(total % 60);
  return h ? `${h}:${two(m)}:${s}` : `${m}:${s}`;
};

/** The time recorded so far, "mm:ss" (whole seconds elapsed). */
export const formatElapsed = (ms: number): string => {
  const total = Math.max(0, Math.floor(ms / 1000));
  return `${two(Math.floor(total / 60))}:${two(total % 60)}`;
};

/** The accessible name of a voice message's player: "Voice message, 0:02" (no duration: "Voice message"). */
export const voiceLabel = (durationMs: number | undefined): string =>
  durationMs ? `Voice message, ${formatDuration(durationMs)}` : 'Voice message';

/**
 * A voice message's bytes as a `blob:` URL for its `<audio>`: the pages' CSP allows media from their own
 * origin and blob: only, and the presigned download URL is storage's origin (connect-src allows it).
 */
export const playableUrl = async (url: string): Promise<string> => {
  const response = await fetch(url);
  if (!response.ok) throw new Error(`download failed (${response.status})`);
  return URL.createObjectURL(await response.blob());
};
