export { daysLeftInWindow, isValidTimeZone, previousWindow, windowAt } from './window.js';
export type { BillingWindow, WindowKind } from './window.js';
