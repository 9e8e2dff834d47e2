/**
 * /widget.js as the web build makes it (infra/web-build.ts): one self-contained script, no runtime
 * dependency (nothing from node_modules), nothing server-side, and at most 20 KB gzipped — the
 * widget's budget. Held at 19,400 bytes (19,311 measured with replies, reactions and mentions) so that
 * growth shows early.
 */
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { browserBundleViolations, buildWeb, WEB_ENTRIES } from '../../infra/web-build.ts';

const BUDGET_BYTES = 19_400;

describe('/widget.js bundle', () => {
  it('is self-contained, free of dependencies and within 20 KB gzip', async () => {
    // Act
    const built = await buildWeb({
      entries: WEB_ENTRIES.filter((e) => e.path === '/widget.js'),
      sourcemap: false,
    });

    // Assess
    const body = built.assets.get('/widget.js')?.body;
    const metafile = built.metafiles.get('/widget.js');
    expect(body && metafile).toBeTruthy();
    if (!body || !metafile) return;
    const inputs = Object.keys(metafile.inputs);
    expect(inputs.filter((input) => input.includes('node_modules'))).toEqual([]);
    expect(browserBundleViolations(metafile)).toEqual([]);
    expect(inputs.every((input) => /^web\/(widget|sdk)\/|^shared\/domain\//.test(input))).toBe(true);
    const gzipped = gzipSync(body).length;
    console.log(`[widget] /widget.js ${body.length} bytes, ${gzipped} bytes gzip`);
    expect(gzipped).toBeLessThanOrEqual(BUDGET_BYTES);
    // An IIFE: it declares nothing global but ChatWidget (set on window at run time).
    expect(body.toString('utf8')).toMatch(/^"use strict";\(\(\)=>\{|^\(\(\)=>\{/);
  });
});
