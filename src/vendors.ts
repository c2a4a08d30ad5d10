/** The vendors the emulator serves. Adding one is one line here and a folder in src/routes. */
import type { VendorModule } from './routes/shared/vendor.js';
import type { OptionSpec } from './core/config.js';
import { rackcorp } from './routes/rackcorp/index.js';
import { emailsrvr } from './routes/emailsrvr/index.js';
import { ispcrm } from './routes/ispcrm/index.js';
import { mgmt } from './routes/mgmt/index.js';

export const vendors: readonly VendorModule[] = [rackcorp, emailsrvr, ispcrm, mgmt];

export function vendorOptionSpecs(): OptionSpec[] {
  return vendors.flatMap((v) => v.options ?? []);
}
