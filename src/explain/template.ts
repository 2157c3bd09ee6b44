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
 * The text of a template for `locale`: the exact locale, then its language, then `en`.
 *
 * @example
 * resolveTemplateText({ pl: 'Cześć', en: 'Hello' }, 'pl-PL'); // 'Cześć'
 */
export function resolveTemplateText(
  texts: Readonly<Record<string, string>>,
  locale: string,
): string | undefined {
  const language = locale.split('-')[0]!;
  return texts[locale] ?? texts[language] ?? texts['en'];
}

/**
 * Fills `{name}` placeholders; a placeholder without a value is left out rather than printed raw.
 *
 * @example
 * renderTemplate('Used {percent}%', { percent: '80' }); // 'Used 80%'
 */
export function renderTemplate(text: string, values: Readonly<Record<string, string>>): string {
  return text
    .replace(/\{(\w+)\}/g, (_, name: string) => values[name] ?? '')
    .replace(/\s+([.,:;!?])/g, '$1')
    .replace(/\s{2,}/g, ' ')
    .trim();
}

const formatters = new Map<string, Intl.NumberFormat>();

function formatter(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let f = formatters.get(key);
  if (f === undefined) {
    f = new Intl.NumberFormat(locale, { style: 'currency', currency });
    formatters.set(key, f);
  }
  return f;
}

/**
 * The number of minor-unit digits of a currency (2 for PLN, 0 for JPY, 3 for KWD).
 *
 * @example
 * minorDigits('JPY'); // 0
 */
export function minorDigits(currency: string): number {
  return formatter('en', currency).resolvedOptions().maximumFractionDigits ?? 2;
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
  const decimal = toDecimalString(minor, minorDigits(currency));
  // Intl formats a decimal string exactly; going through a float could round large amounts.
  return formatter(locale, currency).format(decimal as unknown as number);
}
