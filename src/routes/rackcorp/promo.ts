/**
 * Promo code rules, shared by billing.promo.validate / billing.promo.addcode and by
 * customer.create / customer.signup / customer.update (`promoCode`): a code is usable when it
 * exists and is offered to the caller (owned by the caller or one of its ancestors), has not
 * expired (by the state's clock, UTC date; the expiry day itself is still valid), is not used up
 * (timesUsed >= maxUses, maxUses 0 = unlimited) and, for a customer, is in that customer's
 * currency. A customer that already holds a code may keep it even after it is used up.
 *
 * Applying a code is one path for all of them (`promoToApply`, then `recordPromo`): it is recorded
 * on the customer and counts one use.
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

/**
 * Whom a code is for: an existing customer (`customerId`, its currency read unless given), or a
 * customer about to be created or changed (`currency` alone, or with the new currency of an update).
 */
export interface PromoTarget {
  customerId?: number;
  currency?: string;
}

/** The promo code when usable (for the target, when given), else a message saying why not. */
export function findUsablePromo(
  ctx: RackcorpContext,
  code: string,
  target: PromoTarget = {},
): { promo: PromoRow; held: boolean } | { problem: string } {
  const billing = ctx.state.use(createRackcorpBillingStore);
  const promo = billing.promoByCode(code);
  if (!promo || !billing.promoAvailableTo(promo, ctx.auth.customerId))
    return { problem: `Promo Code ${code} does not exist` };
  if (promoExpired(ctx, promo)) return { problem: `Promo Code ${code} has expired` };
  const held = target.customerId !== undefined && billing.customerHasPromo(target.customerId, promo.id);
  if (!held && promoUsedUp(promo)) return { problem: `Promo Code ${code} has been used up` };
  const currency =
    target.currency ?? (target.customerId !== undefined ? ctx.store.currency(target.customerId) : undefined);
  if (currency && currency !== promo.currencycode)
    return { problem: `Promo Code ${code} is only for ${promo.currencycode} accounts` };
  return { promo, held };
}

/**
 * The code to apply to the target, or why it cannot be. `again: 'refuse'` (addcode) refuses a code
 * the customer already holds; `'keep'` (customer.update's promoCode) accepts it without a new use.
 */
export function promoToApply(
  ctx: RackcorpContext,
  code: string,
  target: PromoTarget,
  again: 'refuse' | 'keep',
): { promo: PromoRow; held: boolean } | { problem: string } {
  const r = findUsablePromo(ctx, code, target);
  if ('promo' in r && r.held && again === 'refuse')
    return { problem: `Promo Code ${r.promo.code} has already been added to customer ${target.customerId}` };
  return r;
}

/** Record an applied code on the customer and count one use (nothing when it already holds it). */
export function recordPromo(
  ctx: RackcorpContext,
  customerId: number,
  applied: { promo: PromoRow; held: boolean },
): void {
  if (!applied.held)
    ctx.state.use(createRackcorpBillingStore).addPromoToCustomer(customerId, applied.promo.id, ctx.clock.nowSeconds());
}
