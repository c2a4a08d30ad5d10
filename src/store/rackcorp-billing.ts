/**
 * RackCorp billing data: currencies, products with prices per currency and customer tier,
 * promo codes and the customers they were added to, services with their usage records (one per
 * service per day), invoices and payments, quotations with lines.
 *
 * Money is integer cents. A promo code's `discount` is basis points for PERCENTAGE (1000 = 10%)
 * and cents for FIXED. Dates the API takes as YYYY-MM-DD (usage days, promo expiry, service
 * start) are stored as such; instants are Unix seconds like the customer tables.
 */
import { pageClause, preparedOnUse, type DB } from './db.js';
import type { VendorTable } from '../core/vendor.js';
import { insertedId } from './overlay.js';

export const rackcorpBillingTables: VendorTable[] = [
  {
    name: 'rackcorp_currencies',
    ddl: `CREATE TABLE rackcorp_currencies (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      code TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      symbol TEXT NOT NULL
    );`,
  },
  {
    name: 'rackcorp_products',
    ddl: `CREATE TABLE rackcorp_products (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      code TEXT NOT NULL UNIQUE,
      name TEXT NOT NULL,
      category TEXT NOT NULL,
      billingType TEXT NOT NULL CHECK (billingType IN ('MONTHLY', 'USAGE')),
      unit TEXT NOT NULL
    );`,
  },
  {
    name: 'rackcorp_prices',
    ddl: `CREATE TABLE rackcorp_prices (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      productId INTEGER NOT NULL REFERENCES rackcorp_products(id),
      currency TEXT NOT NULL REFERENCES rackcorp_currencies(code),
      tier TEXT NOT NULL,
      priceCents INTEGER NOT NULL,
      UNIQUE (productId, currency, tier)
    );`,
  },
  {
    name: 'rackcorp_promo_codes',
    ddl: `CREATE TABLE rackcorp_promo_codes (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      code TEXT NOT NULL UNIQUE COLLATE NOCASE,
      description TEXT NOT NULL DEFAULT '',
      type TEXT NOT NULL CHECK (type IN ('PERCENTAGE', 'FIXED')),
      discount INTEGER NOT NULL,
      currencycode TEXT NOT NULL,
      expires TEXT,
      maxUses INTEGER NOT NULL DEFAULT 0,
      timesUsed INTEGER NOT NULL DEFAULT 0,
      serviceCategory TEXT,
      campaign TEXT,
      ownerCustomerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      dateCreated INTEGER NOT NULL
    );`,
  },
  {
    name: 'rackcorp_customer_promos',
    ddl: `CREATE TABLE rackcorp_customer_promos (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      promoId INTEGER NOT NULL REFERENCES rackcorp_promo_codes(id),
      dateAdded INTEGER NOT NULL,
      UNIQUE (customerId, promoId)
    );`,
  },
  {
    name: 'rackcorp_services',
    ddl: `CREATE TABLE rackcorp_services (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      name TEXT NOT NULL,
      productId INTEGER NOT NULL REFERENCES rackcorp_products(id),
      usageProductId INTEGER REFERENCES rackcorp_products(id),
      status TEXT NOT NULL DEFAULT 'ACTIVE',
      currency TEXT NOT NULL,
      monthlyPriceCents INTEGER NOT NULL,
      contractMonths INTEGER NOT NULL,
      dateStart TEXT NOT NULL,
      dateEnd TEXT,
      promoId INTEGER REFERENCES rackcorp_promo_codes(id)
    );
    CREATE INDEX rackcorp_services_customer ON rackcorp_services(customerId);`,
  },
  {
    name: 'rackcorp_usage',
    ddl: `CREATE TABLE rackcorp_usage (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      serviceId INTEGER NOT NULL REFERENCES rackcorp_services(id),
      date TEXT NOT NULL,
      quantity INTEGER NOT NULL,
      costCents INTEGER NOT NULL
    );
    CREATE INDEX rackcorp_usage_service_date ON rackcorp_usage(serviceId, date);`,
  },
  {
    name: 'rackcorp_invoices',
    ddl: `CREATE TABLE rackcorp_invoices (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      invoiceNumber TEXT NOT NULL UNIQUE,
      period TEXT NOT NULL,
      description TEXT NOT NULL DEFAULT '',
      currency TEXT NOT NULL,
      recurringCents INTEGER NOT NULL,
      usageCents INTEGER NOT NULL,
      amountCents INTEGER NOT NULL,
      dateIssued INTEGER NOT NULL,
      dateDue INTEGER NOT NULL
    );
    CREATE INDEX rackcorp_invoices_customer ON rackcorp_invoices(customerId);`,
  },
  {
    name: 'rackcorp_payments',
    ddl: `CREATE TABLE rackcorp_payments (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      invoiceId INTEGER REFERENCES rackcorp_invoices(id),
      reference TEXT NOT NULL,
      method TEXT NOT NULL,
      currency TEXT NOT NULL,
      amountCents INTEGER NOT NULL,
      datePaid INTEGER NOT NULL
    );
    CREATE INDEX rackcorp_payments_customer ON rackcorp_payments(customerId);`,
  },
  {
    name: 'rackcorp_quotes',
    ddl: `CREATE TABLE rackcorp_quotes (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      customerId INTEGER NOT NULL REFERENCES rackcorp_customers(id),
      reference TEXT NOT NULL,
      name TEXT NOT NULL,
      status TEXT NOT NULL,
      currency TEXT NOT NULL,
      dateCreated INTEGER NOT NULL,
      dateExpires INTEGER NOT NULL
    );`,
  },
  {
    name: 'rackcorp_quote_lines',
    ddl: `CREATE TABLE rackcorp_quote_lines (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      quoteId INTEGER NOT NULL REFERENCES rackcorp_quotes(id) ON DELETE CASCADE,
      productId INTEGER NOT NULL REFERENCES rackcorp_products(id),
      description TEXT NOT NULL,
      quantity INTEGER NOT NULL,
      unitPriceCents INTEGER NOT NULL
    );`,
  },
];

export interface CurrencyRow {
  code: string;
  name: string;
  symbol: string;
}
export interface ProductPriceRow {
  productId: number;
  code: string;
  name: string;
  category: string;
  billingType: string;
  unit: string;
  currency: string;
  tier: string;
  priceCents: number;
}
export interface PromoRow {
  id: number;
  code: string;
  description: string;
  type: 'PERCENTAGE' | 'FIXED';
  discount: number;
  currencycode: string;
  expires: string | null;
  maxUses: number;
  timesUsed: number;
  serviceCategory: string | null;
  campaign: string | null;
  ownerCustomerId: number;
  dateCreated: number;
}
export type PromoFields = Pick<
  PromoRow,
  'code' | 'description' | 'type' | 'discount' | 'currencycode' | 'expires' | 'maxUses' | 'serviceCategory' | 'campaign'
>;
export interface ServiceRow {
  id: number;
  customerId: number;
  customerName: string;
  name: string;
  productCode: string;
  productName: string;
  category: string;
  usageProductCode: string | null;
  usageUnit: string | null;
  status: string;
  currency: string;
  monthlyPriceCents: number;
  contractMonths: number;
  dateStart: string;
  dateEnd: string | null;
  promoId: number | null;
}
/** An invoice (`description` set) or a payment (`method` set) of a customer's billing history. */
export interface HistoryRow {
  kind: 'INVOICE' | 'PAYMENT';
  id: number;
  reference: string;
  description: string | null;
  method: string | null;
  currency: string;
  amountCents: number;
  date: number;
  dateDue: number | null;
  invoiceId: number | null;
  paidCents: number | null;
}
export interface QuoteRow {
  id: number;
  customerId: number;
  reference: string;
  name: string;
  status: string;
  currency: string;
  dateCreated: number;
  dateExpires: number;
}
export interface QuoteLineRow {
  quoteId: number;
  productCode: string;
  description: string;
  quantity: number;
  unitPriceCents: number;
}
export interface UsageAggRow {
  serviceId: number;
  days: number;
  quantity: number;
  costCents: number;
}
export interface InvoiceStatRow {
  period: string;
  currency: string;
  invoices: number;
  invoicedCents: number;
  recurringCents: number;
  usageCents: number;
  paidCents: number;
}
export interface UsageMonthRow {
  period: string;
  currency: string;
  quantity: number;
  costCents: number;
}

/** A customer and its descendants. */
const TREE = `WITH RECURSIVE tree(id) AS (
  SELECT id FROM rackcorp_customers WHERE id = @root
  UNION ALL SELECT c.id FROM rackcorp_customers c JOIN tree t ON c.parentID = t.id)`;
/** A customer and its ancestors. */
const UP = `WITH RECURSIVE up(id) AS (
  SELECT id FROM rackcorp_customers WHERE id = @customer
  UNION ALL SELECT c.parentID FROM rackcorp_customers c JOIN up u ON c.id = u.id WHERE c.parentID IS NOT NULL)`;

const SERVICE_COLS = `s.id, s.customerId, c.stdName AS customerName, s.name, p.code AS productCode, p.name AS productName, p.category,
  up.code AS usageProductCode, up.unit AS usageUnit, s.status, s.currency, s.monthlyPriceCents, s.contractMonths, s.dateStart, s.dateEnd, s.promoId`;
const SERVICE_FROM = `rackcorp_services s JOIN rackcorp_customers c ON c.id = s.customerId JOIN rackcorp_products p ON p.id = s.productId
  LEFT JOIN rackcorp_products up ON up.id = s.usageProductId`;

export function createRackcorpBillingStore(db: DB) {
  const s = preparedOnUse({
    currencies: () => db.prepare<[], CurrencyRow>('SELECT code, name, symbol FROM rackcorp_currencies ORDER BY id'),
    // The customer's tier price, or the DEFAULT tier's when its tier has none.
    pricing: () =>
      db.prepare<
        { currency: string; tier: string },
        ProductPriceRow
      >(`SELECT p.id AS productId, p.code, p.name, p.category, p.billingType, p.unit,
      @currency AS currency, COALESCE(t.tier, d.tier) AS tier, COALESCE(t.priceCents, d.priceCents) AS priceCents
      FROM rackcorp_products p
      LEFT JOIN rackcorp_prices t ON t.productId = p.id AND t.currency = @currency AND t.tier = @tier
      LEFT JOIN rackcorp_prices d ON d.productId = p.id AND d.currency = @currency AND d.tier = 'DEFAULT'
      WHERE COALESCE(t.priceCents, d.priceCents) IS NOT NULL ORDER BY p.id`),
    tiers: () =>
      db.prepare<[], { tier: string }>(
        `SELECT DISTINCT tier FROM rackcorp_prices ORDER BY CASE tier WHEN 'DEFAULT' THEN 0 ELSE 1 END, tier`,
      ),
    products: () =>
      db.prepare<[], { id: number; code: string; name: string; category: string; billingType: string; unit: string }>(
        'SELECT id, code, name, category, billingType, unit FROM rackcorp_products ORDER BY id',
      ),
    promoByCode: () =>
      db.prepare<[string], PromoRow>('SELECT * FROM rackcorp_promo_codes WHERE code = ? COLLATE NOCASE'),
    promoById: () => db.prepare<[number], PromoRow>('SELECT * FROM rackcorp_promo_codes WHERE id = ?'),
    isAncestorOrSelf: () =>
      db.prepare<{ customer: number; owner: number }, { id: number }>(`${UP} SELECT id FROM up WHERE id = @owner`),
    promosAvailable: () =>
      db.prepare<{ customer: number }, PromoRow>(
        `${UP} SELECT p.* FROM rackcorp_promo_codes p JOIN up u ON u.id = p.ownerCustomerId ORDER BY p.id`,
      ),
    insertPromo: () =>
      db.prepare(`INSERT INTO rackcorp_promo_codes
      (code, description, type, discount, currencycode, expires, maxUses, timesUsed, serviceCategory, campaign, ownerCustomerId, dateCreated)
      VALUES (@code, @description, @type, @discount, @currencycode, @expires, @maxUses, 0, @serviceCategory, @campaign, @owner, @now)`),
    customerPromo: () =>
      db.prepare<[number, number], { id: number }>(
        'SELECT id FROM rackcorp_customer_promos WHERE customerId = ? AND promoId = ?',
      ),
    insertCustomerPromo: () =>
      db.prepare('INSERT INTO rackcorp_customer_promos (customerId, promoId, dateAdded) VALUES (?, ?, ?)'),
    usePromo: () => db.prepare('UPDATE rackcorp_promo_codes SET timesUsed = timesUsed + 1 WHERE id = ?'),
    services: () =>
      db.prepare<{ root: number; customer: number | null; limit: number; offset: number }, ServiceRow>(`${TREE}
      SELECT ${SERVICE_COLS} FROM ${SERVICE_FROM} JOIN tree t ON t.id = s.customerId
      WHERE @customer IS NULL OR s.customerId = @customer ORDER BY s.id ${pageClause('@limit', '@offset')}`),
    servicesCount: () =>
      db.prepare<{ root: number; customer: number | null }, { n: number }>(`${TREE}
      SELECT COUNT(*) AS n FROM rackcorp_services s JOIN tree t ON t.id = s.customerId WHERE @customer IS NULL OR s.customerId = @customer`),
    usageByService: () =>
      db.prepare<{ root: number; customer: number | null; from: string; to: string }, UsageAggRow>(`${TREE}
      SELECT u.serviceId, COUNT(*) AS days, SUM(u.quantity) AS quantity, SUM(u.costCents) AS costCents
      FROM rackcorp_usage u JOIN rackcorp_services s ON s.id = u.serviceId JOIN tree t ON t.id = s.customerId
      WHERE (@customer IS NULL OR s.customerId = @customer) AND u.date BETWEEN @from AND @to
      GROUP BY u.serviceId ORDER BY u.serviceId`),
    history: () =>
      db.prepare<{ customer: number; limit: number; offset: number }, HistoryRow>(`
      SELECT * FROM (
        SELECT 'INVOICE' AS kind, i.id, i.invoiceNumber AS reference, i.description, NULL AS method, i.currency, i.amountCents, i.dateIssued AS date, i.dateDue,
          NULL AS invoiceId, (SELECT COALESCE(SUM(p.amountCents), 0) FROM rackcorp_payments p WHERE p.invoiceId = i.id) AS paidCents
        FROM rackcorp_invoices i WHERE i.customerId = @customer
        UNION ALL
        SELECT 'PAYMENT', p.id, p.reference, NULL, p.method, p.currency, p.amountCents, p.datePaid, NULL, p.invoiceId, NULL
        FROM rackcorp_payments p WHERE p.customerId = @customer)
      ORDER BY date DESC, kind DESC, id DESC ${pageClause('@limit', '@offset')}`),
    historyCount: () =>
      db.prepare<{ customer: number }, { n: number }>(`SELECT
      (SELECT COUNT(*) FROM rackcorp_invoices WHERE customerId = @customer) + (SELECT COUNT(*) FROM rackcorp_payments WHERE customerId = @customer) AS n`),
    invoiceNumber: () =>
      db.prepare<[number], { invoiceNumber: string }>('SELECT invoiceNumber FROM rackcorp_invoices WHERE id = ?'),
    quotes: () =>
      db.prepare<{ customer: number; limit: number; offset: number }, QuoteRow>(
        `SELECT * FROM rackcorp_quotes WHERE customerId = @customer ORDER BY dateCreated DESC, id DESC ${pageClause('@limit', '@offset')}`,
      ),
    quotesCount: () =>
      db.prepare<{ customer: number }, { n: number }>(
        'SELECT COUNT(*) AS n FROM rackcorp_quotes WHERE customerId = @customer',
      ),
    quoteLines: () =>
      db.prepare<
        [number],
        QuoteLineRow
      >(`SELECT l.quoteId, p.code AS productCode, l.description, l.quantity, l.unitPriceCents
      FROM rackcorp_quote_lines l JOIN rackcorp_products p ON p.id = l.productId WHERE l.quoteId = ? ORDER BY l.id`),
    invoiceStats: () =>
      db.prepare<
        { customer: number },
        InvoiceStatRow
      >(`SELECT i.period, i.currency, COUNT(*) AS invoices, SUM(i.amountCents) AS invoicedCents,
      SUM(i.recurringCents) AS recurringCents, SUM(i.usageCents) AS usageCents,
      SUM((SELECT COALESCE(SUM(p.amountCents), 0) FROM rackcorp_payments p WHERE p.invoiceId = i.id)) AS paidCents
      FROM rackcorp_invoices i WHERE i.customerId = @customer GROUP BY i.period, i.currency ORDER BY i.period, i.currency`),
    usageMonths: () =>
      db.prepare<
        { customer: number },
        UsageMonthRow
      >(`SELECT substr(u.date, 1, 7) AS period, s.currency, SUM(u.quantity) AS quantity, SUM(u.costCents) AS costCents
      FROM rackcorp_usage u JOIN rackcorp_services s ON s.id = u.serviceId WHERE s.customerId = @customer
      GROUP BY period, s.currency ORDER BY period, s.currency`),
  });

  return {
    currencies: () => s.currencies.all(),
    currency: (code: string) => s.currencies.all().find((c) => c.code === code),
    pricing: (currency: string, tier: string) => s.pricing.all({ currency, tier }),
    tiers: () => s.tiers.all().map((r) => r.tier),
    products: () => s.products.all(),
    promoByCode: (code: string) => s.promoByCode.get(code),
    promoById: (id: number) => s.promoById.get(id),
    /** True when the promo code's owner is the customer or one of its ancestors (the code is offered to it). */
    promoAvailableTo: (p: PromoRow, customerId: number) =>
      s.isAncestorOrSelf.get({ customer: customerId, owner: p.ownerCustomerId }) !== undefined,
    promosAvailable: (customerId: number) => s.promosAvailable.all({ customer: customerId }),
    createPromo(f: PromoFields, owner: number, now: number): number {
      return insertedId(db, s.insertPromo.run({ ...f, owner, now }));
    },
    /** Set the given columns (names already validated by the caller). */
    updatePromo(id: number, f: Partial<PromoFields>): void {
      const cols = Object.keys(f);
      if (!cols.length) return;
      db.prepare(`UPDATE rackcorp_promo_codes SET ${cols.map((c) => `"${c}" = @${c}`).join(', ')} WHERE id = @id`).run({
        ...f,
        id,
      });
    },
    customerHasPromo: (customerId: number, promoId: number) => s.customerPromo.get(customerId, promoId) !== undefined,
    /** Record the code on the customer and count one use, atomically. */
    addPromoToCustomer(customerId: number, promoId: number, now: number): void {
      db.transaction(() => {
        s.insertCustomerPromo.run(customerId, promoId, now);
        s.usePromo.run(promoId);
      })();
    },
    services: (root: number, customer: number | null, offset: number, limit: number) => ({
      count: s.servicesCount.get({ root, customer })!.n,
      rows: s.services.all({ root, customer, limit, offset }),
    }),
    usageByService: (root: number, customer: number | null, from: string, to: string) =>
      s.usageByService.all({ root, customer, from, to }),
    history: (customer: number, offset: number, limit: number) => ({
      count: s.historyCount.get({ customer })!.n,
      rows: s.history.all({ customer, limit, offset }),
    }),
    invoiceNumber: (id: number) => s.invoiceNumber.get(id)?.invoiceNumber ?? null,
    quotes: (customer: number, offset: number, limit: number) => ({
      count: s.quotesCount.get({ customer })!.n,
      rows: s.quotes.all({ customer, limit, offset }),
    }),
    quoteLines: (quoteId: number) => s.quoteLines.all(quoteId),
    invoiceStats: (customer: number) => s.invoiceStats.all({ customer }),
    usageMonths: (customer: number) => s.usageMonths.all({ customer }),
  };
}

export type RackcorpBillingStore = ReturnType<typeof createRackcorpBillingStore>;
