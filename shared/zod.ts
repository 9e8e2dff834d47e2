/**
 * The zod every schema uses: `zod/mini` (functional, tree-shakable: a fraction of the classic build's
 * size and import time, which every cold start pays). Import it as `import * as z from '…/zod.ts'`,
 * never the zod package itself: mini ships without a locale, so its issues would all read "Invalid
 * input"; this module installs the English messages that classic zod loads by default.
 * (A namespace import, not `{ z }`: zod's `z` object holds every export, locales included, and
 * would defeat tree-shaking.)
 */
import { en } from 'zod/locales';
import { config } from 'zod/mini';

config(en());

export * from 'zod/mini';
