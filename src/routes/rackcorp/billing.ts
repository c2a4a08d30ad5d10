/**
 * RackCorp billing operations (rackcorp-billing.txt). Operations the doc shows only as REST get
 * cmd names in the doc's style (billing.<area>.<verb>); the README lists them with their paths.
 *
 * Money: stored as integer cents; answered as JSON numbers in currency units (cents / 100, so at
 * most two decimals). The only rounding is of percentages (promo discounts), done once per line,
 * half-up, in cents.
 */
import { Type } from '@sinclair/typebox';
import { defineOperation, Flag, isTrue, Message, type RackcorpContext, type RackcorpOperation } from './operation.js';
import { RackcorpFault, CUSTOMER_NOT_FOUND } from './envelope.js';
import {
  createRackcorpBillingStore,
  type PromoRow,
  type PromoFields,
  type ServiceRow,
} from '../../store/rackcorp-billing.js';
import { findUsablePromo, promoExpired, promoToApply, promoUsedUp, recordPromo, today } from './promo.js';
import { CURRENCY_CODES, pageWindow, ResWindow } from './customers.js';

export const USAGE_TYPES = ['usage', 'billing'] as const;
export const USAGE_SUMMARIES = ['customer_resource', 'services'] as const;
export const PROMO_TYPES = ['PERCENTAGE', 'FIXED'] as const;
export const CONTRACT_TERMS = [1, 12, 24, 36] as const;
/** Largest FIXED discount, in currency units. */
export const MAX_FIXED_DISCOUNT = 100_000;
export const PROMO_NOT_FOUND = 'Promo Code not found or permission denied';

const Id = Type.Integer({ minimum: 1 });
const Enum = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });
const Paging = {
  resStart: Type.Optional(Type.Integer({ minimum: 0, default: 0 })),
  resWindow: ResWindow,
};
/**
 * The customer a request names. The doc spells it `customerId` (pricing.get) and `customerid`
 * (usage, addcode): every operation naming a customer takes both, so neither spelling is ever
 * ignored; given both, they must agree.
 */
const CustomerParams = {
  customerid: Type.Optional(
    Type.Integer({ minimum: 1, description: 'The customer; also spelled customerId (given both, they must agree)' }),
  ),
  customerId: Type.Optional(
    Type.Integer({ minimum: 1, description: 'The customer; also spelled customerid (given both, they must agree)' }),
  ),
};
function namedCustomer(
  input: { customerid?: number; customerId?: number },
  required?: 'customerid' | 'customerId',
): { id: number; field: string } | undefined {
  const { customerid, customerId } = input;
  if (customerid !== undefined && customerId !== undefined && customerid !== customerId) {
    fault({ customerid: `customerid (${customerid}) and customerId (${customerId}) name different customers` });
  }
  if (customerid !== undefined) return { id: customerid, field: 'customerid' };
  if (customerId !== undefined) return { id: customerId, field: 'customerId' };
  if (required) fault({ [required]: `${required} is required` });
  return undefined;
}

// Response schemas (the fields of the OK envelope after `code`): the contract publishes them.
const Str = Type.String();
const Int = Type.Integer();
const Num = Type.Number({ description: 'Currency units (cents / 100)' });
const NullStr = Type.Union([Str, Type.Null()]);
const strict = { additionalProperties: false } as const;
/** A product's own fields, first in both pricing answers. */
const ProductFields = { productId: Int, code: Str, name: Str, category: Str, billingType: Str, unit: Str };
const PromoOut = Type.Object(
  {
    id: Int,
    code: Str,
    description: Str,
    type: Enum(PROMO_TYPES),
    discount: Type.Number({ description: 'Percent (PERCENTAGE) or currency units (FIXED)' }),
    currencycode: Str,
    expires: NullStr,
    maxUses: Int,
    timesUsed: Int,
    status: Enum(['ACTIVE', 'EXPIRED', 'USED_UP'] as const),
    serviceCategory: NullStr,
    campaign: NullStr,
  },
  strict,
);
const ContractOut = Type.Object(
  {
    serviceId: Int,
    product: Str,
    monthlyPrice: Num,
    discount: Num,
    monthlyTotal: Num,
    currency: Str,
    contractMonths: Int,
    dateStart: Str,
    dateEnd: NullStr,
    promocode: NullStr,
  },
  strict,
);
const ContractFields = ContractOut.properties;
const UsageRow = Type.Object(
  {
    serviceId: Type.Optional(Int),
    serviceName: Type.Optional(Str),
    customerId: Int,
    customerName: Str,
    product: Type.Optional(Str),
    resource: NullStr,
    unit: NullStr,
    currency: Str,
    days: Type.Optional(Int),
    serviceCount: Type.Optional(Int),
    quantity: Type.Optional(Type.Number()),
    cost: Type.Optional(Num),
    amount: Type.Optional(Num),
    services: Type.Optional(
      Type.Array(Type.Object({ serviceId: Int, serviceName: Str, quantity: Type.Number(), cost: Num }, strict)),
    ),
    contracts: Type.Optional(Type.Array(ContractOut)),
  },
  {
    ...strict,
    description:
      'summary=services: one row per service (serviceId, serviceName, product, days); summary=customer_resource: one per customer, resource and currency (serviceCount)',
  },
);

const billingOf = (ctx: RackcorpContext) => ctx.state.use(createRackcorpBillingStore);
/** Cents as a number of currency units (two decimals at most). */
export const money = (cents: number) => cents / 100;
/** `cents * basisPoints / 10000`, rounded once, half-up (amounts are never negative). */
export const percentOf = (cents: number, basisPoints: number) => Math.floor((cents * basisPoints + 5000) / 10000);
const window = pageWindow;
/** An offset past any table is just "past the end"; beyond 2^53 SQLite cannot take it as an integer. */
const start = (s: number | undefined) => Math.min(s ?? 0, Number.MAX_SAFE_INTEGER);

function fault(fields: Record<string, string>): never {
  throw new RackcorpFault(`Invalid parameters: ${Object.values(fields).join('; ')}`, fields);
}

/** The customer when the caller may see it; otherwise the customer API's FAULT, naming `field`. */
function visible(ctx: RackcorpContext, id: number, field: string) {
  const row = ctx.store.get(id);
  if (!row || !ctx.store.visible(ctx.auth.customerId, id))
    throw new RackcorpFault(CUSTOMER_NOT_FOUND, { [field]: CUSTOMER_NOT_FOUND });
  return row;
}

/** A YYYY-MM-DD date that exists, or a message for `field`. */
export function dateProblem(field: string, v: string): string | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
  if (!m) return `${field} must be a date in YYYY-MM-DD format`;
  const d = new Date(Date.UTC(+m[1], +m[2] - 1, +m[3]));
  if (d.toISOString().slice(0, 10) !== v) return `${field} is not a valid date`;
  return null;
}

/** Discount as given (currency units or percent) -> stored integer (cents or basis points), or a message. */
function discountProblem(type: string, discount: number): string | null {
  // Stored in cents (or basis points): a positive value below 0.01 would be stored as 0.
  if (!Number.isFinite(discount) || Math.round(discount * 100) <= 0)
    return discount > 0 ? 'discount must be at least 0.01' : 'discount must be greater than 0';
  if (Math.abs(Math.round(discount * 100) - discount * 100) > 1e-6)
    return 'discount can have at most two decimal places';
  if (type === 'PERCENTAGE' && discount > 100) return 'discount must be at most 100 for a PERCENTAGE code';
  if (type === 'FIXED' && discount > MAX_FIXED_DISCOUNT)
    return `discount must be at most ${MAX_FIXED_DISCOUNT} for a FIXED code`;
  return null;
}

function promoStatus(ctx: RackcorpContext, p: PromoRow): string {
  if (promoExpired(ctx, p)) return 'EXPIRED';
  if (promoUsedUp(p)) return 'USED_UP';
  return 'ACTIVE';
}

function promoOut(ctx: RackcorpContext, p: PromoRow) {
  return {
    id: p.id,
    code: p.code,
    description: p.description,
    type: p.type,
    discount: money(p.discount),
    currencycode: p.currencycode,
    expires: p.expires,
    maxUses: p.maxUses,
    timesUsed: p.timesUsed,
    status: promoStatus(ctx, p),
    serviceCategory: p.serviceCategory,
    campaign: p.campaign,
  };
}

/** A service's monthly charge after its promo code: discount rounded once, half-up. */
function serviceCharge(ctx: RackcorpContext, s: ServiceRow) {
  const promo = s.promoId ? billingOf(ctx).promoById(s.promoId) : undefined;
  let discount = 0;
  if (promo)
    discount =
      promo.type === 'PERCENTAGE'
        ? percentOf(s.monthlyPriceCents, promo.discount)
        : Math.min(promo.discount, s.monthlyPriceCents);
  return { promo, discount, net: s.monthlyPriceCents - discount };
}

function contractOf(ctx: RackcorpContext, s: ServiceRow) {
  const c = serviceCharge(ctx, s);
  return {
    serviceId: s.id,
    product: s.productCode,
    monthlyPrice: money(s.monthlyPriceCents),
    discount: money(c.discount),
    monthlyTotal: money(c.net),
    currency: s.currency,
    contractMonths: s.contractMonths,
    dateStart: s.dateStart,
    dateEnd: s.dateEnd,
    promocode: c.promo?.code ?? null,
  };
}

function pricingList(ctx: RackcorpContext, customerId: number, field: string) {
  const c = visible(ctx, customerId, field);
  const prices = billingOf(ctx)
    .pricing(c.currency, c.customerTierID)
    .map((p) => ({
      productId: p.productId,
      code: p.code,
      name: p.name,
      category: p.category,
      billingType: p.billingType,
      unit: p.unit,
      price: money(p.priceCents),
      currency: p.currency,
      tier: p.tier,
    }));
  return { customerId: c.id, currency: c.currency, customerTierID: c.customerTierID, prices };
}

function pricingOptions(ctx: RackcorpContext) {
  const b = billingOf(ctx);
  return [
    { option: 'currency', values: b.currencies().map((c) => c.code) },
    { option: 'customerTierID', values: b.tiers() },
    { option: 'billingType', values: ['MONTHLY', 'USAGE'] },
    { option: 'contractMonths', values: [...CONTRACT_TERMS] },
    { option: 'category', values: [...new Set(b.products().map((p) => p.category))] },
  ];
}

const PromoCreateInput = Type.Object({
  code: Type.String({ pattern: '^[A-Za-z0-9_-]{3,32}$' }),
  discount: Type.Number(),
  type: Type.Optional(Enum(PROMO_TYPES)),
  currencycode: Type.Optional(Enum(CURRENCY_CODES)),
  expires: Type.Optional(Type.Union([Type.String(), Type.Null()])),
  maxUses: Type.Optional(Type.Integer({ minimum: 0 })),
  description: Type.Optional(Type.String({ maxLength: 255 })),
  serviceCategory: Type.Optional(Type.String({ maxLength: 64 })),
  campaign: Type.Optional(Type.String({ maxLength: 255 })),
});

/** Update takes the create fields, each optional (`code` renames the code), plus the id from the path. */
const PromoUpdateInput = Type.Object({ id: Id, ...Type.Partial(PromoCreateInput).properties });

/** Checks shared by create and update on the merged code; adds messages to `fields`. */
function checkPromoFields(
  ctx: RackcorpContext,
  f: { type: string; discount: number; expires: string | null; serviceCategory: string | null },
  given: Record<string, unknown>,
  fields: Record<string, string>,
) {
  const d = discountProblem(f.type, f.discount);
  if (d) fields[given.discount !== undefined ? 'discount' : 'type'] = d;
  if (given.expires !== undefined && f.expires !== null) {
    const e = dateProblem('expires', f.expires);
    if (e) fields.expires = e;
    else if (f.expires < today(ctx)) fields.expires = 'expires must not be in the past';
  }
  if (
    given.serviceCategory !== undefined &&
    f.serviceCategory !== null &&
    !billingOf(ctx)
      .products()
      .some((p) => p.category === f.serviceCategory)
  ) {
    fields.serviceCategory = `serviceCategory must be one of ${[
      ...new Set(
        billingOf(ctx)
          .products()
          .map((p) => p.category),
      ),
    ].join(', ')}`;
  }
}

const UsageInput = Type.Object({
  type: Enum(USAGE_TYPES),
  summary: Enum(USAGE_SUMMARIES),
  time_start: Type.String(),
  time_finish: Type.String(),
  ...CustomerParams,
  costs: Type.Optional(Flag),
  contracts: Type.Optional(Flag),
});

function usage(input: typeof UsageInput.static, ctx: RackcorpContext) {
  const fields: Record<string, string> = {};
  const s1 = dateProblem('time_start', input.time_start);
  const s2 = dateProblem('time_finish', input.time_finish);
  if (s1) fields.time_start = s1;
  if (s2) fields.time_finish = s2;
  if (!s1 && !s2 && input.time_start > input.time_finish)
    fields.time_start = 'time_start must not be after time_finish';
  const named = namedCustomer(input);
  if (named) {
    try {
      visible(ctx, named.id, named.field);
    } catch (e) {
      if (!Object.keys(fields).length) throw e;
      fields[named.field] = CUSTOMER_NOT_FOUND;
    }
  }
  if (Object.keys(fields).length) fault(fields);

  const b = billingOf(ctx);
  const customer = named?.id ?? null;
  const services = new Map(
    b.services(ctx.auth.customerId, customer, 0, Number.MAX_SAFE_INTEGER).rows.map((s) => [s.id, s]),
  );
  const agg = b.usageByService(ctx.auth.customerId, customer, input.time_start, input.time_finish);
  const billing = input.type === 'billing';
  const costs = billing || isTrue(input.costs);
  const contracts = isTrue(input.contracts);
  const measure = (quantity: number, cents: number) =>
    billing ? { amount: money(cents) } : { quantity, ...(costs ? { cost: money(cents) } : {}) };

  let rows: Record<string, unknown>[];
  if (input.summary === 'services') {
    rows = agg.map((a) => {
      const s = services.get(a.serviceId)!;
      return {
        serviceId: s.id,
        serviceName: s.name,
        customerId: s.customerId,
        customerName: s.customerName,
        product: s.productCode,
        resource: s.usageProductCode,
        unit: s.usageUnit,
        currency: s.currency,
        days: a.days,
        ...measure(a.quantity, a.costCents),
        ...(contracts ? { contracts: [contractOf(ctx, s)] } : {}),
      };
    });
  } else {
    const groups = new Map<
      string,
      {
        customerId: number;
        customerName: string;
        resource: string | null;
        unit: string | null;
        currency: string;
        quantity: number;
        cents: number;
        items: typeof agg;
        svc: ServiceRow[];
      }
    >();
    for (const a of agg) {
      const s = services.get(a.serviceId)!;
      const key = `${s.customerId}|${s.usageProductCode}|${s.currency}`;
      let g = groups.get(key);
      if (!g)
        groups.set(
          key,
          (g = {
            customerId: s.customerId,
            customerName: s.customerName,
            resource: s.usageProductCode,
            unit: s.usageUnit,
            currency: s.currency,
            quantity: 0,
            cents: 0,
            items: [],
            svc: [],
          }),
        );
      g.quantity += a.quantity;
      g.cents += a.costCents;
      g.items.push(a);
      g.svc.push(s);
    }
    rows = [...groups.values()].map((g) => ({
      customerId: g.customerId,
      customerName: g.customerName,
      resource: g.resource,
      unit: g.unit,
      currency: g.currency,
      serviceCount: g.items.length,
      ...measure(g.quantity, g.cents),
      ...(costs
        ? {
            services: g.items.map((a) => ({
              serviceId: a.serviceId,
              serviceName: services.get(a.serviceId)!.name,
              quantity: a.quantity,
              cost: money(a.costCents),
            })),
          }
        : {}),
      ...(contracts ? { contracts: g.svc.map((s) => contractOf(ctx, s)) } : {}),
    }));
  }
  const body: Record<string, unknown> = {
    message: 'Billing usage retrieved successfully',
    type: input.type,
    summary: input.summary,
    time_start: input.time_start,
    time_finish: input.time_finish,
    usage: rows,
  };
  if (costs) {
    const totals = new Map<string, number>();
    for (const a of agg) {
      const cur = services.get(a.serviceId)!.currency;
      totals.set(cur, (totals.get(cur) ?? 0) + a.costCents);
    }
    body.totals = [...totals.entries()]
      .sort(([a], [b2]) => a.localeCompare(b2))
      .map(([currency, cents]) => ({ currency, amount: money(cents) }));
  }
  return { body };
}

export const billingOperations: RackcorpOperation[] = [
  defineOperation({
    cmd: 'billing.currency.get',
    summary: 'Currencies available for billing',
    rest: [{ method: 'GET', path: '/billing/currencies' }],
    output: Type.Object({
      message: Message('Currencies Retrieved Successfully'),
      currencies: Type.Array(Type.Object({ code: Str, name: Str, symbol: Str }, strict)),
    }),
    input: Type.Object({}),
    handler(_input, ctx) {
      return { body: { message: 'Currencies Retrieved Successfully', currencies: billingOf(ctx).currencies() } };
    },
  }),
  defineOperation({
    cmd: 'pricing.get',
    summary: "A customer's price list: its currency, its tier's price (DEFAULT tier when its tier has none)",
    rest: [{ method: 'GET', path: '/billing/pricing' }],
    output: Type.Object({
      message: Message('Pricing List Retrieved Successfully'),
      pricing: Type.Object(
        {
          customerId: Int,
          currency: Str,
          customerTierID: Str,
          prices: Type.Array(
            Type.Object(
              {
                ...ProductFields,
                price: Num,
                currency: Str,
                tier: Str,
              },
              strict,
            ),
          ),
        },
        strict,
      ),
    }),
    input: Type.Object({ ...CustomerParams }),
    handler(input, ctx) {
      const named = namedCustomer(input, 'customerId')!;
      return {
        body: { message: 'Pricing List Retrieved Successfully', pricing: pricingList(ctx, named.id, named.field) },
      };
    },
  }),
  defineOperation({
    cmd: 'billing.pricing.getall',
    summary: "Every product with the customer's tier price in every currency (customerId defaults to the caller)",
    rest: [{ method: 'GET', path: '/billing/:customerId' }],
    output: Type.Object({
      message: Message('Pricing Retrieved Successfully'),
      customerId: Int,
      pricing: Type.Array(
        Type.Object(
          {
            ...ProductFields,
            customerTierID: Str,
            prices: Type.Array(Type.Object({ currency: Str, price: Num, tier: Str }, strict)),
          },
          strict,
        ),
      ),
    }),
    input: Type.Object({ ...CustomerParams }),
    handler(input, ctx) {
      const named = namedCustomer(input);
      const c = visible(ctx, named?.id ?? ctx.auth.customerId, named?.field ?? 'customerId');
      const b = billingOf(ctx);
      const byCurrency = b
        .currencies()
        .map((cur) => [cur.code, new Map(b.pricing(cur.code, c.customerTierID).map((p) => [p.productId, p]))] as const);
      const pricing = b.products().map((p) => ({
        productId: p.id,
        code: p.code,
        name: p.name,
        category: p.category,
        billingType: p.billingType,
        unit: p.unit,
        customerTierID: c.customerTierID,
        prices: byCurrency
          .filter(([, m]) => m.has(p.id))
          .map(([currency, m]) => ({ currency, price: money(m.get(p.id)!.priceCents), tier: m.get(p.id)!.tier })),
      }));
      return { body: { message: 'Pricing Retrieved Successfully', customerId: c.id, pricing } };
    },
  }),
  defineOperation({
    cmd: 'billing.pricing.options',
    summary: 'Pricing options: currencies, tiers, billing types, contract terms, product categories',
    rest: [
      { method: 'GET', path: '/billing/options' },
      { method: 'GET', path: '/billing/pricing/options' },
    ],
    output: Type.Object({
      message: Message('Pricing Options Retrieved Successfully'),
      pricing: Type.Array(Type.Object({ option: Str, values: Type.Array(Type.Union([Str, Int])) }, strict)),
    }),
    input: Type.Object({}),
    handler(_input, ctx) {
      return { body: { message: 'Pricing Options Retrieved Successfully', pricing: pricingOptions(ctx) } };
    },
  }),
  defineOperation({
    cmd: 'billing.statistics.get',
    summary: 'Per month and currency: invoiced, paid, outstanding, usage cost (the caller, or a visible customerid)',
    rest: [{ method: 'GET', path: '/billing/statistics' }],
    output: Type.Object({
      message: Message('Statistics Retrieved Successfully'),
      customerId: Int,
      statistics: Type.Array(
        Type.Object(
          {
            period: Type.String({ description: 'YYYY-MM' }),
            currency: Str,
            invoices: Int,
            invoiced: Num,
            recurring: Num,
            usage: Num,
            paid: Num,
            outstanding: Num,
            usageCost: Num,
          },
          strict,
        ),
      ),
      totals: Type.Array(
        Type.Object(
          { currency: Str, invoices: Int, invoiced: Num, paid: Num, outstanding: Num, usageCost: Num },
          strict,
        ),
      ),
    }),
    input: Type.Object({ ...CustomerParams }),
    handler(input, ctx) {
      const named = namedCustomer(input);
      const customer = visible(ctx, named?.id ?? ctx.auth.customerId, named?.field ?? 'customerid').id;
      const b = billingOf(ctx);
      const rows = new Map<
        string,
        {
          period: string;
          currency: string;
          invoices: number;
          invoiced: number;
          recurring: number;
          usageInvoiced: number;
          paid: number;
          usageCost: number;
        }
      >();
      const row = (period: string, currency: string) => {
        const key = `${period}|${currency}`;
        let r = rows.get(key);
        if (!r)
          rows.set(
            key,
            (r = { period, currency, invoices: 0, invoiced: 0, recurring: 0, usageInvoiced: 0, paid: 0, usageCost: 0 }),
          );
        return r;
      };
      for (const s of b.invoiceStats(customer))
        Object.assign(row(s.period, s.currency), {
          invoices: s.invoices,
          invoiced: s.invoicedCents,
          recurring: s.recurringCents,
          usageInvoiced: s.usageCents,
          paid: s.paidCents,
        });
      for (const u of b.usageMonths(customer)) row(u.period, u.currency).usageCost = u.costCents;
      const sorted = [...rows.values()].sort((a, c) =>
        a.period === c.period ? a.currency.localeCompare(c.currency) : a.period.localeCompare(c.period),
      );
      const statistics = sorted.map((r) => ({
        period: r.period,
        currency: r.currency,
        invoices: r.invoices,
        invoiced: money(r.invoiced),
        recurring: money(r.recurring),
        usage: money(r.usageInvoiced),
        paid: money(r.paid),
        outstanding: money(r.invoiced - r.paid),
        usageCost: money(r.usageCost),
      }));
      const totals = new Map<string, { invoiced: number; paid: number; usageCost: number; invoices: number }>();
      for (const r of sorted) {
        const t = totals.get(r.currency) ?? { invoiced: 0, paid: 0, usageCost: 0, invoices: 0 };
        t.invoiced += r.invoiced;
        t.paid += r.paid;
        t.usageCost += r.usageCost;
        t.invoices += r.invoices;
        totals.set(r.currency, t);
      }
      return {
        body: {
          message: 'Statistics Retrieved Successfully',
          customerId: customer,
          statistics,
          totals: [...totals.entries()].map(([currency, t]) => ({
            currency,
            invoices: t.invoices,
            invoiced: money(t.invoiced),
            paid: money(t.paid),
            outstanding: money(t.invoiced - t.paid),
            usageCost: money(t.usageCost),
          })),
        },
      };
    },
  }),
  defineOperation({
    cmd: 'billing.history.get',
    summary: "The caller's invoices and payments, newest first, paged by resStart/resWindow",
    rest: [{ method: 'GET', path: '/billing/history' }],
    output: Type.Object({
      message: Message('Billing History Retrieved Successfully'),
      matches: Int,
      history: Type.Array(
        Type.Union([
          Type.Object(
            {
              type: Type.Literal('INVOICE'),
              id: Int,
              reference: Str,
              description: Str,
              date: Int,
              dateDue: Type.Union([Int, Type.Null()]),
              amount: Num,
              paid: Num,
              balance: Num,
              currency: Str,
              status: Enum(['PAID', 'PARTIAL', 'UNPAID'] as const),
            },
            strict,
          ),
          Type.Object(
            {
              type: Type.Literal('PAYMENT'),
              id: Int,
              reference: Str,
              description: Str,
              date: Int,
              amount: Num,
              currency: Str,
              invoiceId: Type.Union([Int, Type.Null()]),
              invoiceNumber: NullStr,
            },
            strict,
          ),
        ]),
      ),
    }),
    input: Type.Object({ ...Paging }),
    handler(input, ctx) {
      const b = billingOf(ctx);
      const { count, rows } = b.history(ctx.auth.customerId, start(input.resStart), window(input.resWindow));
      const history = rows.map((h) => {
        if (h.kind === 'INVOICE') {
          const paid = h.paidCents ?? 0;
          return {
            type: 'INVOICE',
            id: h.id,
            reference: h.reference,
            description: h.description,
            date: h.date,
            dateDue: h.dateDue,
            amount: money(h.amountCents),
            paid: money(paid),
            balance: money(h.amountCents - paid),
            currency: h.currency,
            status: paid >= h.amountCents ? 'PAID' : paid > 0 ? 'PARTIAL' : 'UNPAID',
          };
        }
        return {
          type: 'PAYMENT',
          id: h.id,
          reference: h.reference,
          description: `Payment by ${h.method}`,
          date: h.date,
          amount: money(h.amountCents),
          currency: h.currency,
          invoiceId: h.invoiceId,
          invoiceNumber: h.invoiceId ? b.invoiceNumber(h.invoiceId) : null,
        };
      });
      return { body: { message: 'Billing History Retrieved Successfully', history, matches: count } };
    },
  }),
  defineOperation({
    cmd: 'billing.quotes.get',
    summary: "The caller's quotations with lines and totals, newest first",
    rest: [{ method: 'GET', path: '/billing/quotes' }],
    output: Type.Object({
      message: Message('Quotation Retrieved Successfully'),
      matches: Int,
      quotations: Type.Array(
        Type.Object(
          {
            id: Int,
            reference: Str,
            name: Str,
            status: Str,
            customerId: Int,
            currency: Str,
            dateCreated: Int,
            dateExpires: Int,
            lines: Type.Array(
              Type.Object(
                { productCode: Str, description: Str, quantity: Type.Number(), unitPrice: Num, total: Num },
                strict,
              ),
            ),
            total: Num,
          },
          strict,
        ),
      ),
    }),
    input: Type.Object({ ...Paging }),
    handler(input, ctx) {
      const b = billingOf(ctx);
      const { count, rows } = b.quotes(ctx.auth.customerId, start(input.resStart), window(input.resWindow));
      const quotations = rows.map((q) => {
        const lines = b.quoteLines(q.id).map((l) => ({ ...l, totalCents: l.quantity * l.unitPriceCents }));
        return {
          id: q.id,
          reference: q.reference,
          name: q.name,
          status: q.status,
          customerId: q.customerId,
          currency: q.currency,
          dateCreated: q.dateCreated,
          dateExpires: q.dateExpires,
          lines: lines.map((l) => ({
            productCode: l.productCode,
            description: l.description,
            quantity: l.quantity,
            unitPrice: money(l.unitPriceCents),
            total: money(l.totalCents),
          })),
          total: money(lines.reduce((a, l) => a + l.totalCents, 0)),
        };
      });
      return { body: { message: 'Quotation Retrieved Successfully', quotations, matches: count } };
    },
  }),
  defineOperation({
    cmd: 'billing.promo.validate',
    summary: 'Whether a promo code is usable (exists for the caller, not expired, not used up)',
    rest: [{ method: 'GET', path: '/billing/promocode/validate' }],
    output: Type.Object({
      message: Message('Promo Code is valid'),
      promocode: Type.Object(
        { id: Int, code: Str, discount: Type.Number(), type: Enum(PROMO_TYPES), currencycode: Str, expires: NullStr },
        strict,
      ),
    }),
    input: Type.Object({ promocode: Type.String({ minLength: 1, maxLength: 64 }), ...CustomerParams }),
    handler(input, ctx) {
      const named = namedCustomer(input);
      if (named) visible(ctx, named.id, named.field);
      const r = findUsablePromo(ctx, input.promocode, { customerId: named?.id });
      if ('problem' in r) throw new RackcorpFault(r.problem, { promocode: r.problem });
      const p = r.promo;
      return {
        body: {
          message: 'Promo Code is valid',
          promocode: {
            id: p.id,
            code: p.code,
            discount: money(p.discount),
            type: p.type,
            currencycode: p.currencycode,
            expires: p.expires,
          },
        },
      };
    },
  }),
  defineOperation({
    cmd: 'billing.promo.getall',
    summary: "Promo codes offered to the caller (its own and its ancestors'), each with its id",
    rest: [{ method: 'GET', path: '/billing/promocode' }],
    output: Type.Object({ message: Message('Promo Codes Retrieved Successfully'), promocodes: Type.Array(PromoOut) }),
    input: Type.Object({}),
    handler(_input, ctx) {
      const promocodes = billingOf(ctx)
        .promosAvailable(ctx.auth.customerId)
        .map((p) => promoOut(ctx, p));
      return { body: { message: 'Promo Codes Retrieved Successfully', promocodes } };
    },
  }),
  defineOperation({
    cmd: 'billing.promo.create',
    summary: 'Create a promo code owned by the caller',
    rest: [{ method: 'POST', path: '/billing/promocode' }],
    output: Type.Object({ message: Message('Promo Code Created Successfully'), id: Int }),
    input: PromoCreateInput,
    handler(input, ctx) {
      const b = billingOf(ctx);
      const type = input.type ?? 'PERCENTAGE';
      const expires = input.expires === '' ? null : (input.expires ?? null);
      const fields: Record<string, string> = {};
      if (b.promoByCode(input.code)) fields.code = `Promo Code ${input.code} already exists`;
      checkPromoFields(
        ctx,
        { type, discount: input.discount, expires, serviceCategory: input.serviceCategory || null },
        input,
        fields,
      );
      if (Object.keys(fields).length) fault(fields);
      const f: PromoFields = {
        code: input.code,
        description: input.description ?? '',
        type,
        discount: Math.round(input.discount * 100),
        currencycode: input.currencycode ?? ctx.store.get(ctx.auth.customerId)?.currency ?? 'AUD',
        expires,
        maxUses: input.maxUses ?? 0,
        // '' means "none", as on update: stored as null (the read shows null either way).
        serviceCategory: input.serviceCategory || null,
        campaign: input.campaign || null,
      };
      const id = b.createPromo(f, ctx.auth.customerId, ctx.clock.nowSeconds());
      return { body: { message: 'Promo Code Created Successfully', id } };
    },
  }),
  defineOperation({
    cmd: 'billing.promo.update',
    summary: 'Update a promo code owned by the caller or a descendant; only the fields given change',
    rest: [{ method: 'PUT', path: '/billing/promocode/:id' }],
    output: Type.Object({ message: Message('Promo Code Updated Successfully') }),
    input: PromoUpdateInput,
    handler(input, ctx) {
      const b = billingOf(ctx);
      const current = b.promoById(input.id);
      if (!current || !ctx.store.visible(ctx.auth.customerId, current.ownerCustomerId))
        throw new RackcorpFault(PROMO_NOT_FOUND, { id: PROMO_NOT_FOUND });
      const changes: Partial<PromoFields> = {};
      const fields: Record<string, string> = {};
      if (input.code !== undefined && input.code !== current.code) {
        // Customers and services hold the code by its id: a rename keeps them.
        const taken = b.promoByCode(input.code);
        if (taken && taken.id !== current.id) fields.code = `Promo Code ${input.code} already exists`;
        else changes.code = input.code;
      }
      if (input.type !== undefined) changes.type = input.type;
      if (input.discount !== undefined) changes.discount = Math.round(input.discount * 100);
      if (input.currencycode !== undefined) changes.currencycode = input.currencycode;
      if (input.expires !== undefined) changes.expires = input.expires === '' ? null : input.expires;
      if (input.maxUses !== undefined) changes.maxUses = input.maxUses;
      if (input.description !== undefined) changes.description = input.description;
      if (input.serviceCategory !== undefined)
        changes.serviceCategory = input.serviceCategory === '' ? null : input.serviceCategory;
      if (input.campaign !== undefined) changes.campaign = input.campaign === '' ? null : input.campaign;
      const type = changes.type ?? current.type;
      // The merged code must still make sense (e.g. type PERCENTAGE with a FIXED code's 50.00).
      const discount = input.discount ?? current.discount / 100;
      checkPromoFields(
        ctx,
        { type, discount, expires: changes.expires ?? null, serviceCategory: changes.serviceCategory ?? null },
        input,
        fields,
      );
      if (Object.keys(fields).length) fault(fields);
      b.updatePromo(input.id, changes);
      return { body: { message: 'Promo Code Updated Successfully' } };
    },
  }),
  defineOperation({
    cmd: 'billing.promo.addcode',
    summary: "Apply a promo code to a customer of the caller's tree (counts one use)",
    rest: [{ method: 'POST', path: '/billing/promocode/add' }],
    output: Type.Object({ message: Message('Promo Code Added Successfully') }),
    input: Type.Object({ promocode: Type.String({ minLength: 1, maxLength: 64 }), ...CustomerParams }),
    handler(input, ctx) {
      const named = namedCustomer(input, 'customerid')!;
      visible(ctx, named.id, named.field);
      const r = promoToApply(ctx, input.promocode, { customerId: named.id }, 'refuse');
      if ('problem' in r) throw new RackcorpFault(r.problem, { promocode: r.problem });
      recordPromo(ctx, named.id, r);
      return { body: { message: 'Promo Code Added Successfully' } };
    },
  }),
  defineOperation({
    cmd: 'billing.promo.types',
    summary: 'Promo code types',
    rest: [{ method: 'GET', path: '/billing/promo/types' }],
    output: Type.Object({
      message: Message('Promo Types Retrieved Successfully'),
      promotypes: Type.Array(Type.Object({ type: Enum(PROMO_TYPES), description: Str }, strict)),
    }),
    input: Type.Object({}),
    handler() {
      return {
        body: {
          message: 'Promo Types Retrieved Successfully',
          promotypes: [
            { type: 'PERCENTAGE', description: 'A percentage off each charge (discount 0.01 to 100)' },
            {
              type: 'FIXED',
              description: `A fixed amount off each charge, in the code's currency (discount 0.01 to ${MAX_FIXED_DISCOUNT})`,
            },
          ],
        },
      };
    },
  }),
  defineOperation({
    cmd: 'billing.service.promo',
    summary: 'Campaign promo codes that apply to a service category, offered to the caller',
    rest: [{ method: 'GET', path: '/billing/service/promo' }],
    output: Type.Object({
      message: Message('Campaign Promo Codes Retrieved Successfully'),
      servicepromos: Type.Array(PromoOut),
    }),
    input: Type.Object({}),
    handler(_input, ctx) {
      const servicepromos = billingOf(ctx)
        .promosAvailable(ctx.auth.customerId)
        .filter((p) => p.serviceCategory !== null)
        .map((p) => promoOut(ctx, p));
      return { body: { message: 'Campaign Promo Codes Retrieved Successfully', servicepromos } };
    },
  }),
  defineOperation({
    cmd: 'billing.services.get',
    summary:
      "Billing of the services of the caller's tree (or of a visible customerid): monthly price, promo, contract",
    rest: [{ method: 'GET', path: '/billing/services' }],
    output: Type.Object({
      message: Message('Service Billing retrieved successfully'),
      matches: Int,
      servicebilling: Type.Array(
        Type.Object(
          {
            ...ContractFields,
            name: Str,
            customerId: Int,
            customerName: Str,
            productName: Str,
            category: Str,
            status: Str,
            usageResource: NullStr,
          },
          strict,
        ),
      ),
    }),
    input: Type.Object({ ...CustomerParams, ...Paging }),
    handler(input, ctx) {
      const named = namedCustomer(input);
      if (named) visible(ctx, named.id, named.field);
      const { count, rows } = billingOf(ctx).services(
        ctx.auth.customerId,
        named?.id ?? null,
        start(input.resStart),
        window(input.resWindow),
      );
      const servicebilling = rows.map((s) => ({
        ...contractOf(ctx, s),
        name: s.name,
        customerId: s.customerId,
        customerName: s.customerName,
        productName: s.productName,
        category: s.category,
        status: s.status,
        usageResource: s.usageProductCode,
      }));
      return { body: { message: 'Service Billing retrieved successfully', servicebilling, matches: count } };
    },
  }),
  defineOperation({
    cmd: 'billing.usage.get',
    summary:
      'Usage quantities (type=usage) or costs (type=billing) from the daily usage records, by service or by customer and resource',
    rest: [{ method: 'GET', path: '/billing/usage' }],
    output: Type.Object({
      message: Message('Billing usage retrieved successfully'),
      type: Enum(USAGE_TYPES),
      summary: Enum(USAGE_SUMMARIES),
      time_start: Str,
      time_finish: Str,
      usage: Type.Array(UsageRow),
      totals: Type.Optional(Type.Array(Type.Object({ currency: Str, amount: Num }, strict))),
    }),
    input: UsageInput,
    handler: usage,
  }),
];
