import { getOwn } from '../schema/records.js';

/** Placeholders a template may use. */
export const PLACEHOLDERS: readonly string[] = [
  'percent',
  'spend',
  'limit',
  'remaining',
  'capLabel',
  'service',
  'zone',
  'scope',
  'reason',
  'paymentLink',
  'amount',
  'subscriberId',
  'howToLift',
  'reference',
];

/**
 * The text of a template for `locale`: the exact locale, then its language, then the same for
 * `fallbackLocale` (the policy's), then `en`. Keys are read as own entries only, so a locale such as
 * "toString" finds nothing rather than a built-in function.
 *
 * @example
 * resolveTemplateText({ pl: 'Cześć', en: 'Hello' }, 'pl-PL'); // 'Cześć'
 */
export function resolveTemplateText(
  texts: Readonly<Record<string, string>>,
  locale: string,
  fallbackLocale?: string,
): string | undefined {
  const tried = [locale, locale.split('-')[0]!];
  if (fallbackLocale !== undefined) tried.push(fallbackLocale, fallbackLocale.split('-')[0]!);
  tried.push('en');
  for (const key of tried) {
    const text = getOwn(texts, key);
    if (typeof text === 'string') return text;
  }
  return undefined;
}

/** Values for a template found by name, for a caller that knows them only when asked. */
export abstract class TemplateLookup {
  abstract lookup(name: string): string | undefined;
}

/**
 * Fills `{name}` placeholders; a placeholder without a value is left out rather than printed raw.
 *
 * @example
 * renderTemplate('Used {percent}%', { percent: '80' }); // 'Used 80%'
 */
export function renderTemplate(
  text: string,
  values: Readonly<Record<string, string>> | TemplateLookup,
): string {
  const parsed = parsedTemplate(text);
  const parts = parsed.parts;
  const count = (parts.length - 1) / 2;
  let filled: string[] | undefined;
  if (count > 0) {
    filled = new Array<string>(count);
    for (let i = 0; i < count; i++) {
      const name = parts[2 * i + 1]!;
      const value =
        values instanceof TemplateLookup
          ? values.lookup(name)
          : Object.prototype.hasOwnProperty.call(values, name)
            ? values[name]
            : undefined;
      filled[i] = value ?? '';
    }
  }
  // A template whose values repeat (a welcome to a zone: the same text for every subscriber of a
  // locale) is rendered once per set of values and the text shared; a template whose values rarely
  // repeat (amounts, payment links) soon stops being looked up (see Rendered).
  const memo = parsed.rendered;
  const table = memo.table;
  if (table === null) return fill(parts, filled);
  // Each value with its length before it: no two sets of values give one key.
  let key = '';
  if (filled !== undefined)
    for (let i = 0; i < filled.length; i++) key += `${filled[i]!.length}:${filled[i]!}`;
  memo.tries++;
  const known = table.get(key);
  if (known !== undefined) {
    memo.hits++;
    return known;
  }
  if (memo.tries >= MEMO_TRIAL && memo.hits * 2 < memo.tries) memo.table = null;
  else if (table.size >= MEMO_SIZE) table.clear();
  const out = fill(parts, filled);
  memo.table?.set(key, out);
  return out;
}

/** The template's parts with its placeholders' values in, tidied. */
function fill(parts: readonly string[], filled: readonly string[] | undefined): string {
  let out = parts[0]!;
  if (filled !== undefined) for (let i = 0; i < filled.length; i++) out += filled[i]! + parts[2 * i + 2]!;
  // Tidy what empty values leave behind (a space before punctuation, double spaces), only when there is
  // any: testing costs less than replacing.
  if (/\s[.,:;!?]/.test(out)) out = out.replace(/\s+([.,:;!?])/g, '$1');
  if (/\s\s/.test(out)) out = out.replace(/\s{2,}/g, ' ');
  return kept(out.trim());
}

/**
 * A template's rendered texts by their values. Looked up while at least half the lookups of its first
 * MEMO_TRIAL find a text; after that a template whose values rarely repeat is only rendered. At most
 * MEMO_SIZE texts per template (the table starts again when full).
 */
interface Rendered {
  table: Map<string, string> | null;
  tries: number;
  hits: number;
}
const MEMO_TRIAL = 64;
const MEMO_SIZE = 256;

/**
 * `text` as one flat run of characters, for a string that outlives the call that built it. Text built
 * by concatenation is a tree of pieces (a rope) in V8, several times the size of its characters; asking
 * for a character makes V8 copy it into one piece, which is what the kept string then holds. Elsewhere
 * it only reads a character.
 */
export function kept(text: string): string {
  text.charCodeAt(0);
  return text;
}

/** A template text split at its placeholders (text, name, text, name, ..., text), and its renders. */
interface ParsedTemplate {
  readonly parts: readonly string[];
  readonly rendered: Rendered;
}
const parsedTemplates = new Map<string, ParsedTemplate>();
const MAX_PARSED_TEMPLATES = 10_000;

/**
 * A template text split at its `{name}` placeholders (literal texts at even positions, names at odd
 * ones), parsed once and kept.
 *
 * @example
 * templateParts('Hi {subscriberId}!'); // ['Hi ', 'subscriberId', '!']
 */
export function templateParts(text: string): readonly string[] {
  return parsedTemplate(text).parts;
}

function parsedTemplate(text: string): ParsedTemplate {
  let parsed = parsedTemplates.get(text);
  if (parsed === undefined) {
    parsed = { parts: text.split(/\{(\w+)\}/), rendered: { table: new Map(), tries: 0, hits: 0 } };
    if (parsedTemplates.size >= MAX_PARSED_TEMPLATES) parsedTemplates.clear();
    parsedTemplates.set(text, parsed);
  }
  return parsed;
}

/**
 * ISO 4217 minor-unit exponents that are not 2. Money is integer minor units as ISO 4217 defines them;
 * CLDR (what `Intl` uses for display) differs for some currencies (HUF, IDR, COP, IQD, ...), so the
 * exponent is ours and `Intl` only formats.
 */
const ISO_EXPONENTS: Readonly<Record<string, number>> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

const formatters = new Map<string, Intl.NumberFormat>();
const dateFormats = new Map<string, Intl.DateTimeFormat>();
const quantityFormats = new Map<string, Intl.NumberFormat>();
/** Formatter caches are cleared wholesale past this size (a formatter costs tens of microseconds to make). */
const MAX_FORMATTERS = 1_000;

/**
 * A medium-style date formatter for a locale and time zone, made once and kept.
 *
 * @example
 * dateFormatter('pl-PL', 'Europe/Warsaw').format(Date.parse('2026-11-24T10:00:00Z')); // '24 lis 2026'
 */
export function dateFormatter(locale: string, timeZone: string): Intl.DateTimeFormat {
  const key = `${locale}|${timeZone}`;
  let f = dateFormats.get(key);
  if (f === undefined) {
    if (dateFormats.size >= MAX_FORMATTERS) dateFormats.clear();
    f = new Intl.DateTimeFormat(locale, { dateStyle: 'medium', timeZone });
    dateFormats.set(key, f);
  }
  return f;
}

/** Dates already formatted, per locale and time zone (window ends repeat). */
const dateTexts = new Map<string, Map<string, Map<number, string>>>();
const MAX_DATE_TEXTS = 20_000;

/**
 * An instant as a medium-style local date in a locale and time zone (window ends repeat, so the texts
 * are kept: `Intl` takes microseconds per date).
 *
 * @example
 * formatDate(Date.parse('2026-12-01T00:00:00Z'), 'en', 'UTC'); // 'Dec 1, 2026'
 */
export function formatDate(instant: number, locale: string, timeZone: string): string {
  const texts = tableOf(dateTexts, locale, timeZone);
  let text = texts.get(instant);
  if (text === undefined) {
    text = dateFormatter(locale, timeZone).format(instant);
    if (texts.size >= MAX_DATE_TEXTS) texts.clear();
    texts.set(instant, text);
  }
  return text;
}

/** The inner table of a two-level table for `first`, made when missing; bounded. */
function innerTable<V>(tables: Map<string, Map<string, V>>, first: string): Map<string, V> {
  let inner = tables.get(first);
  if (inner === undefined) {
    if (tables.size >= MAX_FORMATTERS) tables.clear();
    tables.set(first, (inner = new Map()));
  }
  return inner;
}

/**
 * The table of texts kept for a pair of keys (locale and currency or time zone), found without
 * building a key string for every call. Both levels are bounded.
 */
function tableOf(
  tables: Map<string, Map<string, Map<number, string>>>,
  first: string,
  second: string,
): Map<number, string> {
  const inner = innerTable(tables, first);
  let texts = inner.get(second);
  if (texts === undefined) {
    if (inner.size >= MAX_FORMATTERS) inner.clear();
    inner.set(second, (texts = new Map()));
  }
  return texts;
}

/**
 * A number formatter with at most two fraction digits (quantities), made once per locale and kept.
 *
 * @example
 * quantityFormatter('en').format(1234.5); // '1,234.5'
 */
export function quantityFormatter(locale: string): Intl.NumberFormat {
  let f = quantityFormats.get(locale);
  if (f === undefined) {
    if (quantityFormats.size >= MAX_FORMATTERS) quantityFormats.clear();
    f = new Intl.NumberFormat(locale, { maximumFractionDigits: 2 });
    quantityFormats.set(locale, f);
  }
  return f;
}

function formatter(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let f = formatters.get(key);
  if (f === undefined) {
    if (formatters.size >= MAX_FORMATTERS) formatters.clear();
    const digits = minorDigits(currency);
    f = new Intl.NumberFormat(locale, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    formatters.set(key, f);
  }
  return f;
}

/**
 * The number of minor-unit digits of a currency under ISO 4217 (2 for PLN and HUF, 0 for JPY, 3 for KWD).
 *
 * @example
 * minorDigits('JPY'); // 0
 */
export function minorDigits(currency: string): number {
  return Object.prototype.hasOwnProperty.call(ISO_EXPONENTS, currency) ? ISO_EXPONENTS[currency]! : 2;
}

/**
 * The decimal string of an integer amount of minor units, exact (no floating point).
 *
 * @example
 * toDecimalString(-1205, 2); // '-12.05'
 */
export function toDecimalString(minor: number, digits: number): string {
  const negative = minor < 0;
  const text = Math.abs(minor)
    .toString()
    .padStart(digits + 1, '0');
  const whole = digits === 0 ? text : text.slice(0, -digits);
  const fraction = digits === 0 ? '' : `.${text.slice(-digits)}`;
  return `${negative ? '-' : ''}${whole}${fraction}`;
}

/**
 * Formats integer minor units as money in `locale` with `Intl.NumberFormat`.
 *
 * @example
 * formatMoney(150000, 'PLN', 'pl-PL'); // '1500,00 zł'
 */
export function formatMoney(minor: number, currency: string, locale: string): string {
  // The locale's pattern learnt from Intl, where it has been proved, costs less than Intl and than
  // looking the amount up in a table of texts (amounts rarely repeat exactly).
  const small = minor > -EXACT_MINOR && minor < EXACT_MINOR;
  const pattern = small ? moneyPattern(locale, currency) : null;
  if (pattern !== null) return applyPattern(pattern, minor);
  const texts = tableOf(moneyTexts, locale, currency);
  let text = texts.get(minor);
  if (text === undefined) {
    const digits = minorDigits(currency);
    // Intl formats a decimal string exactly; a float could round a large amount. Below 2^31 minor
    // units the float is within a billionth of a minor unit of the amount, which rounding to the
    // currency's digits undoes exactly, and formatting a number costs less (a test holds the two equal).
    text = formatter(locale, currency).format(
      small ? minor / 10 ** digits : (toDecimalString(minor, digits) as unknown as number),
    );
    if (texts.size >= MAX_MONEY_TEXTS) texts.clear();
    texts.set(minor, text);
  }
  return text;
}

/**
 * How a locale writes money in a currency, learnt from `Intl.NumberFormat#formatToParts`: the text
 * before and after the number (currency sign, minus sign, spaces), the group and decimal separators,
 * the group sizes and the minimum grouping digits. Intl takes about a microsecond per amount; the
 * pattern a tenth of that. A pattern is used only after it has given Intl's text for every amount in
 * a proof set (every digit count up to 2^31, both signs); a locale it cannot describe (other digits,
 * an unusual shape) keeps Intl.
 */
interface MoneyPattern {
  readonly digits: number;
  readonly scale: number;
  readonly positive: readonly [string, string];
  readonly negative: readonly [string, string];
  readonly group: string;
  readonly decimal: string;
  readonly primary: number;
  readonly secondary: number;
  readonly minGrouping: number;
}

const moneyPatterns = new Map<string, Map<string, MoneyPattern | null>>();

function moneyPattern(locale: string, currency: string): MoneyPattern | null {
  const inner = innerTable(moneyPatterns, locale);
  let pattern = inner.get(currency);
  if (pattern === undefined) {
    if (inner.size >= MAX_FORMATTERS) inner.clear();
    pattern = learnPattern(formatter(locale, currency), minorDigits(currency));
    inner.set(currency, pattern);
  }
  return pattern;
}

/** The affixes and number parts of one formatted amount, or null for a shape the pattern cannot hold. */
function partsOf(
  format: Intl.NumberFormat,
  value: number,
): { affixes: [string, string]; integers: string[]; group: string; decimal: string } | null {
  let before = '';
  let after = '';
  let inNumber = false;
  let done = false;
  const integers: string[] = [];
  let group = '';
  let decimal = '';
  for (const part of format.formatToParts(value)) {
    const number =
      part.type === 'integer' || part.type === 'group' || part.type === 'decimal' || part.type === 'fraction';
    if (number) {
      if (done) return null;
      inNumber = true;
      if (part.type === 'integer') {
        if (!/^[0-9]+$/.test(part.value)) return null;
        integers.push(part.value);
      } else if (part.type === 'group') group = part.value;
      else if (part.type === 'decimal') decimal = part.value;
      else if (!/^[0-9]+$/.test(part.value)) return null;
    } else if (inNumber) {
      done = true;
      after += part.value;
    } else before += part.value;
  }
  return { affixes: [before, after], integers, group, decimal };
}

function learnPattern(format: Intl.NumberFormat, digits: number): MoneyPattern | null {
  const scale = 10 ** digits;
  const wide = partsOf(format, 1234567890);
  const negative = partsOf(format, -1234567890);
  if (wide === null || negative === null || wide.integers.length < 2) return null;
  const sizes = wide.integers.map((g) => g.length);
  const primary = sizes[sizes.length - 1]!;
  const secondary = sizes.length > 2 ? sizes[sizes.length - 2]! : primary;
  let minGrouping = 0;
  for (let length = primary + 1; length <= primary + 3 && minGrouping === 0; length++) {
    const parts = partsOf(format, 10 ** (length - 1));
    if (parts === null) return null;
    if (parts.integers.length > 1) minGrouping = length - primary;
  }
  if (minGrouping === 0) return null;
  const pattern: MoneyPattern = {
    digits,
    scale,
    positive: wide.affixes,
    negative: negative.affixes,
    group: wide.group,
    decimal: digits > 0 ? partsOf(format, 1.5)?.decimal || wide.decimal : '',
    primary,
    secondary,
    minGrouping,
  };
  if (digits > 0 && pattern.decimal === '') return null;
  // The proof: every digit count, both signs, fractions with and without zeros, against Intl.
  for (let length = 1; length <= 10; length++) {
    for (const lead of [1, 9]) {
      const base = lead * 10 ** (length - 1);
      for (const minor of [base, base + 7, Math.min(EXACT_MINOR - 1, base * 10 - 1)]) {
        if (minor >= EXACT_MINOR) continue;
        for (const signed of [minor, -minor]) {
          if (applyPattern(pattern, signed) !== format.format(signed / scale)) return null;
        }
      }
    }
  }
  if (applyPattern(pattern, 0) !== format.format(0)) return null;
  return pattern;
}

/** An amount of minor units (below 2^31 in size) written with a proved pattern. */
function applyPattern(p: MoneyPattern, minor: number): string {
  const negative = minor < 0;
  const size = negative ? -minor : minor;
  const whole = String(Math.floor(size / p.scale));
  let number: string;
  if (whole.length - p.primary >= p.minGrouping) {
    let end = whole.length - p.primary;
    number = whole.slice(end);
    while (end > 0) {
      const start = Math.max(0, end - p.secondary);
      number = whole.slice(start, end) + p.group + number;
      end = start;
    }
  } else number = whole;
  if (p.digits > 0) number += p.decimal + String(size % p.scale).padStart(p.digits, '0');
  const [before, after] = negative ? p.negative : p.positive;
  return before + number + after;
}

/** Below this many minor units (2^31) money is formatted from a float (see `formatMoney`). */
const EXACT_MINOR = 2 ** 31;

/** Amounts already formatted per locale and currency (limits and prices repeat), cleared past a size. */
const moneyTexts = new Map<string, Map<string, Map<number, string>>>();
const MAX_MONEY_TEXTS = 20_000;
