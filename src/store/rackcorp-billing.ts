/** RackCorp billing tables (currencies, products, prices, invoices, promo codes, services, usage): issue #3. */
import type { VendorTable } from '../routes/shared/vendor.js';

export const rackcorpBillingTables: VendorTable[] = [];
