/**
 * Whether a promo code may be applied. Stand-in until the billing API (issue #3) brings promo
 * codes as data: only the documented example code is known.
 */
import type { RackcorpContext } from './operation.js';

const KNOWN_CODES = new Set(['PROMO123']);

/** A reason the code cannot be used, or null when it can. */
export function checkPromoCode(_ctx: RackcorpContext, code: string, _customerId?: number): string | null {
  return KNOWN_CODES.has(code.toUpperCase()) ? null : `Promo Code ${code} is not valid`;
}
