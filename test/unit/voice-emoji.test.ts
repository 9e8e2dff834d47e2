/**
 * The pure parts of voice messages and the emoji picker (web/shared-ui): the recording format chosen,
 * durations as written, the built-in emoji, recently used ones, and the picker's keyboard moves.
 */
import { describe, expect, it } from 'vitest';
import {
  EMOJI_GROUPS,
  loadRecent,
  MAX_RECENT,
  moveInGrid,
  pickerGroups,
  pushRecent,
  RECENT_KEY,
  rememberRecent,
} from '../../web/shared-ui/emoji.ts';
import {
  chooseVoiceFormat,
  formatDuration,
  formatElapsed,
  voiceFileName,
  voiceLabel,
} from '../../web/shared-ui/voice.ts';
import { emojiSchema } from '../../shared/domain/schemas.ts';

const memoryStorage = (initial: Record<string, string> = {}) => {
  const items = new Map(Object.entries(initial));
  return {
    getItem: (key: string) => items.get(key) ?? null,
    setItem: (key: string, value: string) => void items.set(key, value),
    items,
  };
};

describe('voice recording format', () => {
  it('prefers Opus in WebM, then Opus in Ogg, then MP4, uploading the type without parameters', () => {
    const only =
      (...types: string[]) =>
      (type: string) =>
        types.includes(type);

    expect(chooseVoiceFormat(() => true)).toMatchObject({
      mimeType: 'audio/webm;codecs=opus',
      contentType: 'audio/webm',
    });
    expect(chooseVoiceFormat(only('audio/ogg;codecs=opus', 'audio/mp4'))?.contentType).toBe('audio/ogg');
    expect(chooseVoiceFormat(only('audio/mp4'))).toMatchObject({
      contentType: 'audio/mp4',
      extension: 'm4a',
    });
    expect(chooseVoiceFormat(only('audio/wav'))).toBeUndefined();
    expect(
      chooseVoiceFormat(() => {
        throw new Error('no MediaRecorder');
      }),
    ).toBeUndefined();
  });

  it('names the file voice-<timestamp>.<ext>', () => {
    const webm = chooseVoiceFormat(() => true)!;

    expect(voiceFileName(webm, new Date('2026-12-03T22:15:00.123Z'))).toBe('voice-20261203T221500Z.webm');
  });
});

describe('durations', () => {
  it('writes a message duration as m:ss, rounded to the second', () => {
    expect(formatDuration(0)).toBe('0:00');
    expect(formatDuration(1_600)).toBe('0:02');
    expect(formatDuration(59_400)).toBe('0:59');
    expect(formatDuration(299_999)).toBe('5:00');
    expect(formatDuration(3_725_000)).toBe('1:02:05');
    expect(formatDuration(-5)).toBe('0:00');
  });

  it('writes the time recorded as mm:ss of whole seconds', () => {
    expect(formatElapsed(999)).toBe('00:00');
    expect(formatElapsed(1_000)).toBe('00:01');
    expect(formatElapsed(61_500)).toBe('01:01');
    expect(formatElapsed(300_000)).toBe('05:00');
  });

  it('names the player with its duration when the server knows it', () => {
    expect(voiceLabel(2_000)).toBe('Voice message, 0:02');
    expect(voiceLabel(undefined)).toBe('Voice message');
  });
});

describe('built-in emoji', () => {
  const all = EMOJI_GROUPS.flatMap((group) => group.emoji);

  it('holds 80 to 120 distinct emoji the API accepts as reactions', () => {
    expect(all.length).toBeGreaterThanOrEqual(80);
    expect(all.length).toBeLessThanOrEqual(120);
    expect(new Set(all).size).toBe(all.length);
    for (const emoji of all)
      expect({ emoji, ok: emojiSchema.safeParse(emoji).success }).toEqual({ emoji, ok: true });
  });

  it('writes them fully qualified (a text-default character carries U+FE0F)', () => {
    expect(all).toContain('\u2764\uFE0F');
    expect(all).not.toContain('\u2764');
    for (const emoji of all)
      if (/^[\u2600-\u27BF]$/u.test(emoji))
        expect(['☕', '✅', '❌', '❗', '❓', '✨', '✋', '⭐']).toContain(emoji);
  });
});

describe('recently used emoji', () => {
  it('puts the last one used first, once, keeping at most 16', () => {
    expect(pushRecent(['😀', '👍', '❤️'], '👍')).toEqual(['👍', '😀', '❤️']);
    const full = EMOJI_GROUPS[0]!.emoji.slice(0, MAX_RECENT);
    const next = pushRecent(full, '🚀');
    expect(next).toHaveLength(MAX_RECENT);
    expect(next[0]).toBe('🚀');
    expect(next).not.toContain(full.at(-1));
  });

  it('remembers them in storage and ignores what it cannot read', () => {
    const storage = memoryStorage();
    rememberRecent('😀', storage);
    rememberRecent('👍', storage);
    rememberRecent('😀', storage);

    expect(loadRecent(storage)).toEqual(['😀', '👍']);
    expect(JSON.parse(storage.items.get(RECENT_KEY)!)).toEqual(['😀', '👍']);
    expect(loadRecent(memoryStorage({ [RECENT_KEY]: '{not json' }))).toEqual([]);
    expect(loadRecent(memoryStorage({ [RECENT_KEY]: '[1,"🎉",null]' }))).toEqual(['🎉']);
    expect(loadRecent(undefined)).toEqual([]);
  });

  it('shows the recent group first, only when there is one', () => {
    expect(pickerGroups([])[0]?.label).toBe(EMOJI_GROUPS[0]?.label);
    expect(pickerGroups(['🎉'])[0]).toEqual({ label: 'Recently used', emoji: ['🎉'] });
  });
});

describe('picker keyboard moves', () => {
  // Two groups of 8 columns: 10 items (rows 0-7, 8-9), then 5 items (10-14).
  const sizes = [10, 5];
  const move = (index: number, key: Parameters<typeof moveInGrid>[1]) => moveInGrid(index, key, sizes, 8);

  it('goes left and right through the flat list, stopping at the ends', () => {
    expect(move(0, 'ArrowLeft')).toBe(0);
    expect(move(7, 'ArrowRight')).toBe(8);
    expect(move(10, 'ArrowLeft')).toBe(9);
    expect(move(14, 'ArrowRight')).toBe(14);
  });

  it('goes home and end', () => {
    expect(move(6, 'Home')).toBe(0);
    expect(move(6, 'End')).toBe(14);
  });

  it('goes down and up by rows, keeping the column across groups', () => {
    expect(move(1, 'ArrowDown')).toBe(9);
    expect(move(5, 'ArrowDown')).toBe(9); // the last row is shorter: its last item
    expect(move(9, 'ArrowDown')).toBe(11); // into the next group, same column
    expect(move(8, 'ArrowDown')).toBe(10);
    expect(move(12, 'ArrowDown')).toBe(12); // nothing below
    expect(move(9, 'ArrowUp')).toBe(1);
    expect(move(13, 'ArrowUp')).toBe(9); // previous group's last row, column 3 → nearest item
    expect(move(10, 'ArrowUp')).toBe(8);
    expect(move(3, 'ArrowUp')).toBe(3); // nothing above
  });

  it('skips empty groups and answers -1 when there is nothing', () => {
    expect(moveInGrid(2, 'ArrowDown', [3, 0, 4], 8)).toBe(5);
    expect(moveInGrid(4, 'ArrowUp', [3, 0, 4], 8)).toBe(1);
    expect(moveInGrid(0, 'ArrowDown', [], 8)).toBe(-1);
  });
});
