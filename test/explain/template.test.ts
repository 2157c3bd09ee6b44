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
