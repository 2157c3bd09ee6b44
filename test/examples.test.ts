import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../examples/', import.meta.url));

function programs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return programs(path);
    return path.endsWith('.mjs') ? [path] : [];
  });
}

describe('every program in examples/ runs', () => {
  const files = programs(root);
  it('finds the examples', () => {
    expect(files.map((f) => relative(root, f)).sort()).toEqual(
      expect.arrayContaining(['quickstart.mjs', 'roaming-trip/run.mjs']),
    );
  });
  it.each(files.map((f) => [relative(root, f), f]))('%s exports main() and it completes', async (_, file) => {
    const module = (await import(pathToFileURL(file).href)) as { main?: () => Promise<{ text: string }> };
    expect(typeof module.main).toBe('function');
    const result = await module.main!();
    expect(result.text.length).toBeGreaterThan(0);
  });
});

describe('the roaming trip tells the story the demo promises', () => {
  it('warns before blocking, blocks only roaming data, never domestic, and lifts in the payment decision', async () => {
    const { main } = (await import('../examples/roaming-trip/run.mjs')) as {
      main: () => Promise<{
        trip: { steps: { event: { type: string; id: string }; decision: any }[] };
        text: string;
      }>;
    };
    const { trip, text } = await main();
    const actions = trip.steps.flatMap((s) =>
      s.decision.actions.map((a: any) => ({ ...a, eventType: s.event.type })),
    );
    const firstWarn = actions.findIndex((a) => a.kind === 'notify' && a.ruleId === 'roaming-data-warn-80');
    const firstBlock = actions.findIndex((a) => a.kind === 'block');
    expect(firstWarn).toBeGreaterThanOrEqual(0);
    expect(firstBlock).toBeGreaterThan(firstWarn);
    for (const a of actions.filter((x) => x.kind === 'block')) {
      expect(
        a.scope.every((p: { service: string; zone: string }) => p.service === 'data' && p.zone !== 'home'),
      ).toBe(true);
    }
    const payment = trip.steps.find((s) => s.event.type === 'payment')!;
    expect(payment.decision.actions.map((a: any) => [a.kind, a.cause ?? null])).toEqual([
      ['unblock', 'payment'],
      ['notify', null],
    ]);
    expect(text).toContain('Now: pl-48601000001 has no restriction.');
  });
});
