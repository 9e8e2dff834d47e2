/**
 * The emoji picker's data and pure logic (no DOM): the built-in emoji (fully-qualified, e.g. "❤️" with
 * U+FE0F) in a few groups, the recently used ones (most recent first, at most 16, kept in localStorage),
 * and how the arrow keys, Home and End move in a grid of groups laid out `cols` wide.
 */

export interface EmojiGroup {
  readonly label: string;
  readonly emoji: readonly string[];
}

const group = (label: string, list: string): EmojiGroup => ({ label, emoji: list.split(' ') });

/** The built-in emoji, by group. */
export const EMOJI_GROUPS: readonly EmojiGroup[] = [
  group(
    'Smileys',
    '😀 😃 😄 😁 😆 😅 😂 🤣 😊 😇 🙂 🙃 😉 😌 😍 🥰 😘 😋 😜 🤪 🤗 🤔 🤨 😐 😶 🙄 😏 😬 😴 😎 🤓 🥳 😮 😲 😳 🥺 😢 😭 😤 😡 🤯 😱 🤒 🤢',
  ),
  group('People', '👍 👎 👌 ✌️ 🤞 🤝 👏 🙌 👋 🙏 💪 👀 🤷 🙋 👉 👈 ☝️ ✋ 🤙 ✍️'),
  group('Symbols', '❤️ 🧡 💛 💚 💙 💜 🖤 🤍 💔 ❣️ 💯 ✅ ❌ ❗ ❓ ⚠️ ⭐ ✨ 🔥 🎉 💡 💤'),
  group('Things', '☀️ 🌈 ☕ 🍕 🎂 🍻 🎁 📦 📱 💻 📧 📞 🔒 🔑 🕒 📅 🚀 🚗 ✈️ 🏠 🌍 🌸 🐶 🐱'),
];

export const MAX_RECENT = 16;
export const RECENT_KEY = 'chat-emoji:recent';

/** `emoji` first, then the others used before it, at most MAX_RECENT. */
export const pushRecent = (recent: readonly string[], emoji: string): string[] =>
  [emoji, ...recent.filter((e) => e !== emoji)].slice(0, MAX_RECENT);

/** The recently used emoji this browser remembers (none when storage is unavailable or holds garbage). */
export const loadRecent = (
  storage: Pick<Storage, 'getItem'> | undefined = globalThis.localStorage,
): string[] => {
  try {
    const value: unknown = JSON.parse(storage?.getItem(RECENT_KEY) ?? '[]');
    return Array.isArray(value)
      ? value
          .filter((e): e is string => typeof e === 'string' && e.length > 0 && e.length <= 16)
          .slice(0, MAX_RECENT)
      : [];
  } catch {
    return [];
  }
};

/** Remembers that `emoji` was just used; returns the new list. */
export const rememberRecent = (
  emoji: string,
  storage: Pick<Storage, 'getItem' | 'setItem'> | undefined = globalThis.localStorage,
): string[] => {
  const next = pushRecent(loadRecent(storage), emoji);
  try {
    storage?.setItem(RECENT_KEY, JSON.stringify(next));
  } catch {
    // storage full or denied: the picker still works, it just forgets
  }
  return next;
};

/** The picker's groups: the recent ones first (when there are any), then the built-in ones. */
export const pickerGroups = (recent: readonly string[]): EmojiGroup[] => [
  ...(recent.length ? [{ label: 'Recently used', emoji: recent }] : []),
  ...EMOJI_GROUPS,
];

export type GridKey = 'ArrowLeft' | 'ArrowRight' | 'ArrowUp' | 'ArrowDown' | 'Home' | 'End';
export const GRID_KEYS: readonly string[] = [
  'ArrowLeft',
  'ArrowRight',
  'ArrowUp',
  'ArrowDown',
  'Home',
  'End',
];

/**
 * The index (in the flat list of all groups' emoji) a key moves to from `index`: groups of `sizes`
 * items, each laid out in rows of `cols` starting on a new row. Left and right go through the flat
 * list, up and down keep the column (the nearest item of a shorter row) and cross into the next or
 * previous group; at an edge the index stays. -1 when there is nothing.
 */
export const moveInGrid = (index: number, key: GridKey, sizes: readonly number[], cols: number): number => {
  const total = sizes.reduce((sum, n) => sum + n, 0);
  if (total === 0) return -1;
  const at = Math.min(Math.max(index, 0), total - 1);
  if (key === 'Home') return 0;
  if (key === 'End') return total - 1;
  if (key === 'ArrowLeft') return Math.max(at - 1, 0);
  if (key === 'ArrowRight') return Math.min(at + 1, total - 1);
  const starts: number[] = [];
  let start = 0;
  for (const n of sizes) {
    starts.push(start);
    start += n;
  }
  let g = 0;
  while (at >= (starts[g] ?? 0) + (sizes[g] ?? 0)) g++;
  const i = at - (starts[g] ?? 0);
  const size = sizes[g] ?? 0;
  const col = i % cols;
  if (key === 'ArrowDown') {
    if (i + cols < size) return at + cols;
    if (Math.floor(i / cols) < Math.floor((size - 1) / cols)) return (starts[g] ?? 0) + size - 1;
    for (let h = g + 1; h < sizes.length; h++) {
      const n = sizes[h] ?? 0;
      if (n > 0) return (starts[h] ?? 0) + Math.min(col, n - 1);
    }
    return at;
  }
  if (i >= cols) return at - cols;
  for (let h = g - 1; h >= 0; h--) {
    const n = sizes[h] ?? 0;
    if (n > 0) return (starts[h] ?? 0) + Math.min(Math.floor((n - 1) / cols) * cols + col, n - 1);
  }
  return at;
};
