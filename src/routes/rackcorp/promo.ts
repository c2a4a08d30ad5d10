/**
 * Promo code rules, shared by billing.promo.validate / billing.promo.addcode and by
 * customer.create / customer.update (`promoCode`): a code is usable when it exists and is offered
 * to the caller (owned by the caller or one of its ancestors), has not expired (by the state's
 * clock, UTC date; the expiry day itself is still valid), is not used up (timesUsed >= maxUses,
 * maxUses 0 = unlimited) and, for a named customer, is in that customer's currency. A customer
 * that already holds a code may keep it even after it is used up.
 */
import type { RackcorpContext } from './operation.js';
import { createRackcorpBillingStore, type PromoRow } from '../../store/rackcorp-billing.js';

/** Today's date (UTC, YYYY-MM-DD) by the request state's clock. */
export function today(ctx: RackcorpContext): string {
  return ctx.clock.nowDate().toISOString().slice(0, 10);
}

export function promoExpired(ctx: RackcorpContext, p: PromoRow): boolean {
  return p.expires !== null && p.expires < today(ctx);
}

export function promoUsedUp(p: PromoRow): boolean {
  return p.maxUses > 0 && p.timesUsed >= p.maxUses;
}

/** The promo code when usable, else a message saying why not. */
export function findUsablePromo(ctx: RackcorpContext, code: string, customerId?: number): { promo: PromoRow } | { problem: string } {
  const billing = ctx.state.use(createRackcorpBillingStore);
  const promo = billing.promoByCode(code);
  if (!promo || !billing.promoAvailableTo(promo, ctx.auth.customerId)) return { problem: `Promo Code ${code} does not exist` };
  if (promoExpired(ctx, promo)) return { problem: `Promo Code ${code} has expired` };
  const held = customerId !== undefined && billing.customerHasPromo(customerId, promo.id);
  if (!held && promoUsedUp(promo)) return { problem: `Promo Code ${code} has been used up` };
  if (customerId !== undefined) {
    const currency = ctx.store.get(customerId)?.currency;
    if (currency && currency !== promo.currencycode) return { problem: `Promo Code ${code} is only for ${promo.currencycode} accounts` };
  }
  return { promo };
}

/** A reason the code cannot be used (for the customer, when given), or null when it can. */
export function checkPromoCode(ctx: RackcorpContext, code: string, customerId?: number): string | null {
  const r = findUsablePromo(ctx, code, customerId);
  return 'problem' in r ? r.problem : null;
}
