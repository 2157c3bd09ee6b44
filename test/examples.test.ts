import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../examples/', import.meta.url));

function programs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return programs(path);
    // Programs are the top-level examples and each folder's run.mjs; other modules are their helpers.
    return path.endsWith('.mjs') && (dir === root || path.endsWith('run.mjs')) ? [path] : [];
  });
}

describe('every program in examples/ runs', () => {
  const files = programs(root);
  it('finds the examples', () => {
    expect(files.map((f) => relative(root, f)).sort()).toEqual(
      expect.arrayContaining(['quickstart.mjs', 'roaming-trip/run.mjs', 'stories/run.mjs']),
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

describe('the customer stories, the old way and the spendcap way', () => {
  it('spendcap never blocks domestic voice and never restricts silently; the legacy replay does both', async () => {
    const { main } = (await import('../examples/stories/run.mjs')) as {
      main: () => Promise<{ stories: { name: string; legacy: any; spendcap: any }[]; text: string }>;
    };
    const { stories, text } = await main();
    expect(stories.map((s) => s.name)).toEqual(['erroneous-debt', 'roaming-bill', 'system-error-bill']);
    for (const s of stories) {
      expect(s.spendcap.domesticVoiceBlockedHours, s.name).toBe(0);
      expect(s.spendcap.untoldRestrictions, s.name).toBe(0);
      expect(
        s.spendcap.hoursFromReliefToUnblock.every((h: number) => h === 0),
        s.name,
      ).toBe(true);
      expect(s.legacy.domesticVoiceBlockedHours, s.name).toBeGreaterThan(24);
      expect(s.legacy.untoldRestrictions, s.name).toBeGreaterThan(0);
      expect(s.legacy.hoursFromReliefToUnblock, s.name).toEqual([24]);
    }
    expect(text).toContain('| story');
  });

  it('the erroneous debt holds only purchases, and the dispute lifts it in the same decision', async () => {
    const { replayStories } = (await import('../examples/stories/run.mjs')) as {
      replayStories: () => Promise<any[]>;
    };
    const story = (await replayStories()).find((s) => s.name === 'erroneous-debt');
    const actions = story.spendcapEntries.flatMap((e: any) =>
      e.actions.map((a: any) => ({ ...a, eventType: e.eventType })),
    );
    const block = actions.find((a: any) => a.kind === 'block');
    expect(block.scope.every((p: any) => p.service === 'purchases')).toBe(true);
    const unblock = actions.find((a: any) => a.kind === 'unblock');
    expect([unblock.eventType, unblock.cause]).toEqual(['dispute', 'dispute']);
  });

  it('the system-error bill sends the case to billing-disputes in one line', async () => {
    const { replayStories } = (await import('../examples/stories/run.mjs')) as {
      replayStories: () => Promise<any[]>;
    };
    const story = (await replayStories()).find((s) => s.name === 'system-error-bill');
    const notes = story.spendcapEntries
      .flatMap((e: any) => e.actions)
      .filter((a: any) => a.kind === 'careNote');
    expect(notes.map((n: any) => n.queue)).toEqual(['billing-disputes']);
    expect(notes[0].summary).not.toContain('\n');
  });
});
