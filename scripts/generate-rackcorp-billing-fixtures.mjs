#!/usr/bin/env node
// Writes fixtures/rackcorp/rackcorp_<billing table>.json for the billing API: deterministic
// (fixed seed, fixed dates). Run: node scripts/generate-rackcorp-billing-fixtures.mjs
// Money is integer cents everywhere; usage costs are quantity x unit price (exact).
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rackcorp');
let seed = 20240101;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const between = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const day = (iso) => Date.UTC(+iso.slice(0, 4), +iso.slice(5, 7) - 1, +iso.slice(8, 10)) / 1000;
const iso = (secs) => new Date(secs * 1000).toISOString().slice(0, 10);

// The customers the billing data belongs to (from rackcorp_customers.json): id -> [currency, tier].
const customers = JSON.parse(fs.readFileSync(path.join(out, 'rackcorp_customers.json'), 'utf8'));
const cust = new Map(customers.map((c) => [c.id, c]));

const currencies = [
  { id: 1, code: 'AUD', name: 'Australian Dollar', symbol: '$' },
  { id: 2, code: 'USD', name: 'US Dollar', symbol: '$' },
];

const TIERS = ['DEFAULT', '1', '2', '3'];
// code, name, category, billingType, unit, AUD cents by tier, USD cents by tier
const productDefs = [
  ['VPS-2G', 'Cloud VPS 2GB', 'vps', 'MONTHLY', 'month', [2000, 1900, 1800, 1700], [1400, 1330, 1260, 1190]],
  ['VPS-8G', 'Cloud VPS 8GB', 'vps', 'MONTHLY', 'month', [8000, 7600, 7200, 6800], [5600, 5320, 5040, 4760]],
  ['COLO-1RU', 'Colocation 1RU', 'colocation', 'MONTHLY', 'month', [9900, 9400, 8900, 8400], [6900, 6550, 6200, 5850]],
  [
    'STORAGE-100',
    'Object Storage 100GB',
    'storage',
    'MONTHLY',
    'month',
    [1500, 1425, 1350, 1275],
    [1050, 1000, 945, 890],
  ],
  ['DNS-ZONE', 'DNS Hosting (per zone)', 'dns', 'MONTHLY', 'month', [500, 475, 450, 425], [350, 333, 315, 298]],
  ['BW-GB', 'Data Transfer', 'bandwidth', 'USAGE', 'GB', [10, 9, 8, 7], [7, 6, 6, 5]],
  ['CPU-HR', 'CPU Hours', 'compute', 'USAGE', 'hour', [3, 3, 2, 2], [2, 2, 2, 1]],
  ['STOR-GB', 'Storage GB-day', 'storage', 'USAGE', 'GB-day', [2, 2, 1, 1], [1, 1, 1, 1]],
];
const products = [];
const prices = [];
productDefs.forEach(([code, name, category, billingType, unit, aud, usd], i) => {
  const id = i + 1;
  products.push({ id, code, name, category, billingType, unit });
  TIERS.forEach((tier, t) => {
    prices.push({ productId: id, currency: 'AUD', tier, priceCents: aud[t] });
    prices.push({ productId: id, currency: 'USD', tier, priceCents: usd[t] });
  });
});
const productByCode = new Map(products.map((p) => [p.code, p]));
const priceOf = (code, customerId) => {
  const c = cust.get(customerId);
  const p = productByCode.get(code);
  return prices.find((r) => r.productId === p.id && r.currency === c.currency && r.tier === c.customerTierID)
    .priceCents;
};

// Promo codes: `discount` is basis points for PERCENTAGE (1000 = 10%), cents for FIXED.
const promoCodes = [
  {
    id: 1,
    code: 'PROMO123',
    description: 'Ten percent off',
    type: 'PERCENTAGE',
    discount: 1000,
    currencycode: 'AUD',
    expires: '2099-12-31',
    maxUses: 0,
    timesUsed: 3,
    serviceCategory: null,
    campaign: null,
    ownerCustomerId: 1,
    dateCreated: day('2023-06-01'),
  },
  {
    id: 2,
    code: 'SUMMER2023',
    description: 'Summer 2023 sale',
    type: 'PERCENTAGE',
    discount: 2000,
    currencycode: 'AUD',
    expires: '2023-12-31',
    maxUses: 0,
    timesUsed: 0,
    serviceCategory: null,
    campaign: null,
    ownerCustomerId: 1,
    dateCreated: day('2023-11-01'),
  },
  {
    id: 3,
    code: 'LAUNCH50',
    description: '$50 off, first 100 customers',
    type: 'FIXED',
    discount: 5000,
    currencycode: 'AUD',
    expires: '2099-12-31',
    maxUses: 100,
    timesUsed: 100,
    serviceCategory: null,
    campaign: null,
    ownerCustomerId: 1,
    dateCreated: day('2023-07-01'),
  },
  {
    id: 4,
    code: 'WELCOMEUSD',
    description: 'US$25 off for new USD accounts',
    type: 'FIXED',
    discount: 2500,
    currencycode: 'USD',
    expires: '2099-12-31',
    maxUses: 500,
    timesUsed: 1,
    serviceCategory: null,
    campaign: null,
    ownerCustomerId: 1,
    dateCreated: day('2023-08-01'),
  },
  {
    id: 5,
    code: 'VPSDEAL',
    description: '15% off cloud VPS',
    type: 'PERCENTAGE',
    discount: 1500,
    currencycode: 'AUD',
    expires: '2099-12-31',
    maxUses: 0,
    timesUsed: 1,
    serviceCategory: 'vps',
    campaign: 'VPS Launch',
    ownerCustomerId: 1,
    dateCreated: day('2023-09-01'),
  },
  {
    id: 6,
    code: 'COLO10',
    description: '$10 off colocation each month',
    type: 'FIXED',
    discount: 1000,
    currencycode: 'AUD',
    expires: '2023-06-30',
    maxUses: 0,
    timesUsed: 0,
    serviceCategory: 'colocation',
    campaign: 'Colo Winter',
    ownerCustomerId: 1,
    dateCreated: day('2023-03-01'),
  },
  {
    id: 7,
    code: 'TENANT900',
    description: "Another tenant's code",
    type: 'PERCENTAGE',
    discount: 500,
    currencycode: 'USD',
    expires: '2099-12-31',
    maxUses: 0,
    timesUsed: 0,
    serviceCategory: null,
    campaign: null,
    ownerCustomerId: 900,
    dateCreated: day('2023-06-01'),
  },
];
const customerPromos = [
  { customerId: 2, promoId: 1, dateAdded: day('2023-07-10') },
  { customerId: 3, promoId: 1, dateAdded: day('2023-08-10') },
  { customerId: 4, promoId: 1, dateAdded: day('2023-09-10') },
  { customerId: 5, promoId: 4, dateAdded: day('2023-09-12') },
  { customerId: 123, promoId: 5, dateAdded: day('2023-10-01') },
];

// Services: [id, customerId, name, monthly product, usage product, contract months, start, usage
// base, usage spread, promo]
const serviceDefs = [
  [1, 1, 'sandbox-web01', 'VPS-8G', 'BW-GB', 12, '2023-07-01', 40, 40, null],
  [2, 1, 'sandbox-colo01', 'COLO-1RU', 'BW-GB', 24, '2023-01-01', 150, 100, null],
  [3, 1, 'sandbox-backup', 'STORAGE-100', 'STOR-GB', 1, '2023-10-01', 90, 30, null],
  [4, 123, 'example-app01', 'VPS-2G', 'BW-GB', 12, '2023-10-01', 10, 20, 5],
  [5, 123, 'example-db01', 'VPS-8G', 'CPU-HR', 12, '2024-03-15', 24, 72, null],
  [6, 2, 'boulder-vps01', 'VPS-2G', 'BW-GB', 12, '2023-11-01', 5, 15, null],
  [7, 5, 'wattle-vps01', 'VPS-2G', 'BW-GB', 1, '2023-12-01', 5, 10, null],
  [8, 456, 'reseller-colo01', 'COLO-1RU', 'BW-GB', 36, '2023-06-01', 80, 60, null],
  [9, 901, 'tenant-vps01', 'VPS-2G', 'BW-GB', 12, '2023-12-01', 5, 10, null],
];
const services = [];
const usage = [];
for (const [id, customerId, name, product, usageProduct, contractMonths, start, base, spread, promoId] of serviceDefs) {
  services.push({
    id,
    customerId,
    name,
    productId: productByCode.get(product).id,
    usageProductId: productByCode.get(usageProduct).id,
    status: 'ACTIVE',
    currency: cust.get(customerId).currency,
    monthlyPriceCents: priceOf(product, customerId),
    contractMonths,
    dateStart: start,
    dateEnd: null,
    promoId,
  });
  const unit = priceOf(usageProduct, customerId);
  for (let t = Math.max(day(start), day('2024-01-01')); t <= day('2024-12-31'); t += 86400) {
    const quantity = base + between(0, spread);
    usage.push({ serviceId: id, date: iso(t), quantity, costCents: quantity * unit });
  }
}

// Service discount, rounded once, half-up, on the monthly line.
const promoById = new Map(promoCodes.map((p) => [p.id, p]));
const discounted = (s) => {
  const p = s.promoId ? promoById.get(s.promoId) : null;
  if (!p) return s.monthlyPriceCents;
  const off =
    p.type === 'PERCENTAGE'
      ? Math.floor((s.monthlyPriceCents * p.discount + 5000) / 10000)
      : Math.min(p.discount, s.monthlyPriceCents);
  return s.monthlyPriceCents - off;
};

// Invoices 2023-12 .. 2024-12 for every customer with services: monthly charges of the services
// started by the end of the month, plus the month's usage costs. Issued on the 1st of the next month.
const invoices = [];
const payments = [];
const months = ['2023-12', ...Array.from({ length: 12 }, (_, i) => `2024-${String(i + 1).padStart(2, '0')}`)];
const owners = [...new Set(services.map((s) => s.customerId))];
let invoiceId = 0;
for (const m of months) {
  const [y, mo] = m.split('-').map(Number);
  const next = Date.UTC(y, mo, 1) / 1000;
  const lastDay = iso(next - 86400);
  for (const customerId of owners) {
    const mine = services.filter((s) => s.customerId === customerId && s.dateStart <= lastDay);
    if (!mine.length) continue;
    const recurring = mine.reduce((a, s) => a + discounted(s), 0);
    const ids = new Set(mine.map((s) => s.id));
    const used = usage.filter((u) => ids.has(u.serviceId) && u.date.startsWith(m)).reduce((a, u) => a + u.costCents, 0);
    invoiceId++;
    const inv = {
      id: invoiceId,
      customerId,
      invoiceNumber: `INV-${String(100000 + invoiceId)}`,
      period: m,
      description: `Services for ${m}`,
      currency: cust.get(customerId).currency,
      recurringCents: recurring,
      usageCents: used,
      amountCents: recurring + used,
      dateIssued: next,
      dateDue: next + 14 * 86400,
    };
    invoices.push(inv);
    // Paid 5 days after issue, except: the sandbox's December 2024 invoice is unpaid; Example Corp
    // (123) paid half of November 2024 (rounded down to the cent) and nothing of December.
    if (m === '2024-12' && (customerId === 1 || customerId === 123)) continue;
    const amount = m === '2024-11' && customerId === 123 ? Math.floor(inv.amountCents / 2) : inv.amountCents;
    payments.push({
      customerId,
      invoiceId: inv.id,
      reference: `PAY-${String(500000 + invoiceId)}`,
      method: customerId === 1 ? 'DIRECT_DEBIT' : 'CREDIT_CARD',
      currency: inv.currency,
      amountCents: amount,
      datePaid: next + 5 * 86400,
    });
  }
}

// Quotations with lines priced at the customer's tier when quoted.
const quoteDefs = [
  [
    1,
    1,
    'Web cluster expansion',
    'SENT',
    '2024-02-10',
    [
      ['VPS-8G', 4],
      ['BW-GB', 2000],
      ['DNS-ZONE', 3],
    ],
  ],
  [
    2,
    1,
    'Second rack unit',
    'ACCEPTED',
    '2024-05-03',
    [
      ['COLO-1RU', 1],
      ['BW-GB', 5000],
    ],
  ],
  [
    3,
    1,
    'Backup storage upgrade',
    'EXPIRED',
    '2023-11-20',
    [
      ['STORAGE-100', 5],
      ['STOR-GB', 15000],
    ],
  ],
  [
    4,
    1,
    'Staging environment',
    'DRAFT',
    '2024-11-28',
    [
      ['VPS-2G', 3],
      ['CPU-HR', 1500],
    ],
  ],
  [
    5,
    123,
    'Example Corp database tier',
    'SENT',
    '2024-03-01',
    [
      ['VPS-8G', 2],
      ['CPU-HR', 2000],
    ],
  ],
  [6, 123, 'Example Corp DNS', 'ACCEPTED', '2024-06-15', [['DNS-ZONE', 7]]],
  [
    7,
    2,
    'Boulder VPS bundle',
    'SENT',
    '2024-04-04',
    [
      ['VPS-2G', 5],
      ['BW-GB', 750],
    ],
  ],
];
const quotes = [];
const quoteLines = [];
for (const [id, customerId, name, status, created, lines] of quoteDefs) {
  quotes.push({
    id,
    customerId,
    reference: `Q-${String(7000 + id)}`,
    name,
    status,
    currency: cust.get(customerId).currency,
    dateCreated: day(created),
    dateExpires: day(created) + 30 * 86400,
  });
  for (const [code, quantity] of lines) {
    const p = productByCode.get(code);
    quoteLines.push({
      quoteId: id,
      productId: p.id,
      description: p.name,
      quantity,
      unitPriceCents: priceOf(code, customerId),
    });
  }
}

const write = (table, rows, compact = false) => {
  const text = compact
    ? `[\n${rows.map((r) => JSON.stringify(r)).join(',\n')}\n]\n`
    : `${JSON.stringify(rows, null, 1)}\n`;
  fs.writeFileSync(path.join(out, `rackcorp_${table}.json`), text);
};
write('currencies', currencies);
write('products', products);
write('prices', prices, true);
write('promo_codes', promoCodes);
write('customer_promos', customerPromos);
write('services', services);
write('usage', usage, true);
write('invoices', invoices, true);
write('payments', payments, true);
write('quotes', quotes);
write('quote_lines', quoteLines, true);
console.log(`usage rows: ${usage.length}, invoices: ${invoices.length}, payments: ${payments.length}`);
