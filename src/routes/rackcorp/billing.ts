/** RackCorp billing operations (rackcorp-billing.txt): issue #3. */
import type { RackcorpOperation } from './operation.js';

export const billingOperations: RackcorpOperation[] = [];
