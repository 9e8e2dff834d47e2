import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envNames } from '../../shared/config/env.ts';

describe('README configuration table', () => {
  it('documents every variable of shared/config/env.ts', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const table = readme.slice(readme.indexOf('## Configuration'), readme.indexOf('## Deploy'));

    const missing = envNames.filter((name) => !table.includes(`\`${name}\``));

    expect(missing).toEqual([]);
  });
});
