/**
 * Recording a voice message in both apps: getUserMedia({ audio: true }) into a MediaRecorder (Opus in
 * WebM, else in Ogg, else MP4), with a bar showing the time recorded (mm:ss), a level `meter` named
 * "Recording level" (an AnalyserNode), "Cancel recording" and "Send voice message". Sending (or five
 * minutes) stops the recording and hands the file over (`voice-<timestamp>.<ext>`, its type without
 * parameters) for the app to upload and send; cancelling drops it. The microphone is released either way.
 */
import { adoptStyles, el } from './ui.ts';
import { chooseVoiceFormat, formatElapsed, MAX_RECORDING_MS, voiceFileName } from './voice.ts';

export interface RecorderOptions {
  /** The microphone button: the focus returns to it. */
  readonly opener: HTMLElement;
  /** The bar is inserted into `parent`, before `before`. */
  readonly parent: HTMLElement;
  readonly before?: Node | null;
  readonly onSend: (file: File) => void;
  /** No permission, no device, no supported format. */
  readonly onError: (cause: unknown) => void;
}

let recording = false;

/** Starts recording (a second call while one records does nothing). */
export const recordVoice = async (options: RecorderOptions): Promise<void> => {
  if (recording) return;
  recording = true;
  let stream: MediaStream | undefined;
  try {
    if (typeof MediaRecorder !== 'function' || !navigator.mediaDevices?.getUserMedia)
      throw new Error('Recording is not supported by this browser');
    const format = chooseVoiceFormat((type) => MediaRecorder.isTypeSupported(type));
    if (!format) throw new Error('No supported recording format');
    stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    const media = stream;
    const recorder = new MediaRecorder(media, { mimeType: format.mimeType });
    const chunks: Blob[] = [];
    recorder.ondataavailable = (event) => event.data.size > 0 && chunks.push(event.data);

    const audio = new AudioContext();
    const analyser = audio.createAnalyser();
    analyser.fftSize = 512;
    audio.createMediaStreamSource(media).connect(analyser);
    const samples = new Float32Array(analyser.fftSize);

    const time = el('span', { role: 'timer', 'aria-label': 'Recording time' }, '00:00');
    const meter = el('meter', { min: 0, max: 1, value: 0, 'aria-label': 'Recording level' });
    const cancel = el('button', { type: 'button' }, 'Cancel recording');
    const send = el('button', { type: 'button', class: 'pb' }, 'Send voice message');
    const bar = el(
      'div',
      // `su-rec`: an app that hides the bar's container (the widget's panel closing) cancels it first.
      { class: 'su-rec', role: 'group', 'aria-label': 'Recording a voice message' },
      el('span', { class: 'su-dot', 'aria-hidden': 'true' }),
      time,
      meter,
      cancel,
      send,
    );
    const started = Date.now();
    const tick = setInterval(() => {
      const elapsed = Date.now() - started;
      time.textContent = formatElapsed(elapsed);
      analyser.getFloatTimeDomainData(samples);
      let sum = 0;
      for (const sample of samples) sum += sample * sample;
      meter.value = Math.min(1, Math.sqrt(sum / samples.length) * 4);
      if (elapsed >= MAX_RECORDING_MS) finish(true);
    }, 100);

    let done = false;
    const finish = (keep: boolean) => {
      if (done) return;
      done = true;
      clearInterval(tick);
      recorder.onstop = () => {
        for (const track of media.getTracks()) track.stop();
        void audio.close().catch(() => undefined);
        bar.remove();
        recording = false;
        options.opener.focus();
        if (keep && chunks.length > 0) {
          const blob = new Blob(chunks, { type: format.contentType });
          options.onSend(new File([blob], voiceFileName(format), { type: format.contentType }));
        }
      };
      if (recorder.state === 'inactive') recorder.onstop(new Event('stop'));
      else recorder.stop();
    };
    cancel.addEventListener('click', () => finish(false));
    send.addEventListener('click', () => finish(true));
    bar.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault();
      event.stopPropagation();
      finish(false);
    });

    recorder.start(500);
    adoptStyles(options.parent.getRootNode());
    options.parent.insertBefore(bar, options.before ?? null);
    send.focus();
  } catch (cause) {
    for (const track of stream?.getTracks() ?? []) track.stop();
    recording = false;
    options.onError(cause);
  }
};
