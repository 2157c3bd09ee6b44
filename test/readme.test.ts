import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FACTS } from '../src/index';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');

describe('README', () => {
  it('gives the two set-up commands', () => {
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toContain('npm test');
  });

  it('shows the quick start that examples/quickstart.mjs is (and test/examples.test.ts runs)', () => {
    const block = /<!-- quickstart:start -->\s*```js\n([\s\S]*?)```\s*<!-- quickstart:end -->/.exec(
      readme,
    )?.[1];
    expect(block).toBe(readFileSync(new URL('../examples/quickstart.mjs', import.meta.url), 'utf8'));
  });

  it('documents every fact the engine supplies, and no other', () => {
    const documented = [...readme.matchAll(/^\|\s*`(\w+)`\s*\|\s*(?:number|string|boolean)/gm)].map(
      (m) => m[1],
    );
    expect(documented.sort()).toEqual(Object.keys(FACTS).sort());
  });
});
