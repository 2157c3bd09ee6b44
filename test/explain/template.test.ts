import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatMoney,
  minorDigits,
  renderTemplate,
  resolveTemplateText,
  toDecimalString,
} from '../../src/explain/template';

/** Locales of every shape: grouping by 3 or by 2 after 3, minimum grouping of 1 or 2, sign before or
 * after, separators of one or more characters, Latin and other digits. */
const LOCALES = [
  'pl-PL',
  'en',
  'de-DE',
  'ja-JP',
  'ar-EG',
  'hi-IN',
  'en-IN',
  'es-ES',
  'fr-FR',
  'fr-CH',
  'de-CH',
  'it-IT',
  'nl-NL',
  'tr-TR',
  'uk-UA',
  'en-US',
  'en-GB',
  'pt-BR',
  'fa-IR',
  'he-IL',
  'sv-SE',
  'bn-BD',
];

describe('money', () => {
  it('knows each currency’s minor digits', () => {
    expect([minorDigits('PLN'), minorDigits('JPY'), minorDigits('KWD')]).toEqual([2, 0, 3]);
  });

  it.each([
    [150000, 'PLN', 'pl-PL', '1500,00\u00a0zł'],
    [1234, 'EUR', 'de-DE', '12,34\u00a0€'],
    [-1205, 'GBP', 'en-GB', '-£12.05'],
    [500, 'JPY', 'ja-JP', '￥500'],
    [1234, 'KWD', 'en', 'KWD\u00a01.234'],
  ])('formats %d %s in %s as %s', (minor, currency, locale, text) => {
    expect(formatMoney(minor, currency, locale)).toBe(text);
  });

  it('turns minor units into an exact decimal string for any safe integer', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.integer({ min: 0, max: 3 }), (minor, digits) => {
        const text = toDecimalString(minor, digits);
        const back = BigInt(text.replace('.', '').replace(/^(-?)0+(?=\d)/, '$1'));
        expect(back).toBe(BigInt(minor));
        expect(text.includes('.')).toBe(digits > 0);
      }),
    );
  });

  it('formats an amount as Intl formats its exact decimal string, for every digit count and locale', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.maxSafeInteger()),
        fc.constantFrom('PLN', 'JPY', 'KWD', 'CLF', 'EUR', 'CHF', 'INR', 'USD'),
        fc.constantFrom(...LOCALES),
        (minor, currency, locale) => {
          const digits = minorDigits(currency);
          const exact = new Intl.NumberFormat(locale, {
            style: 'currency',
            currency,
            minimumFractionDigits: digits,
            maximumFractionDigits: digits,
          }).format(toDecimalString(minor, digits) as unknown as number);
          expect(formatMoney(minor, currency, locale)).toBe(exact);
        },
      ),
      { numRuns: 6000 },
    );
  });

  it('formats amounts beyond float precision exactly', () => {
    expect(formatMoney(9007199254740991, 'PLN', 'en')).toBe('PLN\u00a090,071,992,547,409.91');
  });
});

describe('templates', () => {
  const texts = { 'pl-PL': 'A', pl: 'B', en: 'C' };
  it('tries the locale, then its language, then en', () => {
    expect(resolveTemplateText(texts, 'pl-PL')).toBe('A');
    expect(resolveTemplateText({ pl: 'B', en: 'C' }, 'pl-PL')).toBe('B');
    expect(resolveTemplateText({ en: 'C' }, 'de-AT')).toBe('C');
    expect(resolveTemplateText({ de: 'D' }, 'fr')).toBeUndefined();
  });

  it('fills placeholders and leaves out the ones without a value', () => {
    expect(
      renderTemplate('Used {percent}% of {capLabel}. Pay: {paymentLink}', {
        percent: '80',
        capLabel: 'data',
      }),
    ).toBe('Used 80% of data. Pay:');
  });
});

describe('renderTemplate tidying', () => {
  /** The tidying as it was first written: three regular expressions and a trim, always applied. */
  const tidied = (text: string): string =>
    text
      .replace(/\s+([.,:;!?])/g, '$1')
      .replace(/\s{2,}/g, ' ')
      .trim();

  // Whitespace of every kind JavaScript knows, punctuation, letters and non-Latin text.
  const piece = fc.constantFrom(
    ' ',
    '  ',
    '\t',
    '\n',
    '\u00a0',
    '\u2009',
    '\u3000',
    '\ufeff',
    '.',
    ',',
    ':',
    ';',
    '!',
    '?',
    'a',
    'Zł',
    'ą',
    '日本',
    '{x}',
    '{y}',
  );
  const text = fc.array(piece, { maxLength: 12 }).map((parts) => parts.join(''));
  const value = fc.oneof(fc.constant(''), text);

  it('gives what the regular expressions and trim give, for any text and values', () => {
    fc.assert(
      fc.property(text, value, value, (template, x, y) => {
        // Each placeholder of the template filled once (a value is not read as a template).
        const filled = template.replace(/\{([xy])\}/g, (_, name: string) => (name === 'x' ? x : y));
        expect(renderTemplate(template, { x, y })).toBe(tidied(filled));
      }),
    );
  });

  it('leaves tidy text as it is and tidies each kind of untidiness', () => {
    expect(renderTemplate('Paid {x}.', { x: 'in full' })).toBe('Paid in full.');
    expect(renderTemplate('Paid {x}.', { x: '' })).toBe('Paid.');
    expect(renderTemplate('{x} paid  twice', { x: '' })).toBe('paid twice');
    expect(renderTemplate('Zapłać\u00a0{x} !', { x: '' })).toBe('Zapłać!');
  });
});

describe('renderTemplate with repeated values', () => {
  // A template rendered with the same values again gives the text it gave the first time (shared, not
  // made again); one whose values never repeat stops being looked up, and renders the same texts.
  const fill = (template: string, values: Record<string, string>): string =>
    template
      .replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '')
      .replace(/\s+([.,:;!?])/g, '$1')
      .replace(/\s{2,}/g, ' ')
      .trim();

  it('gives the straightforward text whether the values repeat or not (property)', () => {
    const few = fc.constantFrom('', 'eu', 'world', 'e', 'u', '1:e', ':', '2', '12');
    fc.assert(
      fc.property(
        fc.constantFrom('Welcome to {zone}.', '{a}{b}', '{a} and {b} in {zone}!', 'No placeholders.'),
        fc.array(fc.record({ zone: few, a: few, b: few }), { minLength: 1, maxLength: 200 }),
        (template, renders) => {
          for (const values of renders) expect(renderTemplate(template, values)).toBe(fill(template, values));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('keeps apart sets of values whose texts run together ("1" + "2" and "12" + "")', () => {
    const template = 'Key {a}-{b} end';
    expect(renderTemplate(template, { a: '1', b: '2' })).toBe('Key 1-2 end');
    expect(renderTemplate(template, { a: '12', b: '' })).toBe('Key 12- end');
    expect(renderTemplate(template, { a: '', b: '12' })).toBe('Key -12 end');
    expect(renderTemplate(template, { a: '1:1', b: '' })).toBe('Key 1:1- end');
    expect(renderTemplate(template, { a: '1', b: '1:' })).toBe('Key 1-1: end');
    expect(renderTemplate(template, { a: '1', b: '2' })).toBe('Key 1-2 end');
  });

  it('renders every text right for a template whose values never repeat, past the trial', () => {
    const template = 'Pay {amount} at {link} now';
    for (let i = 0; i < 500; i++) {
      const values = { amount: `PLN ${i}`, link: `https://pay.example.com/?n=${i}` };
      expect(renderTemplate(template, values)).toBe(fill(template, values));
    }
    // And once more a set seen before, after the template stopped being looked up.
    expect(renderTemplate(template, { amount: 'PLN 3', link: 'x' })).toBe('Pay PLN 3 at x now');
  });
});
