#!/usr/bin/env node
// Writes fixtures/rackcorp/*.json for the customer API: deterministic (fixed seed, fixed dates).
// Run: node scripts/generate-rackcorp-fixtures.mjs
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const out = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'rackcorp');
let seed = 20241123;
const rand = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
const pick = (a) => a[Math.floor(rand() * a.length)];

const BASE = 1699123456; // the doc's dateCreated
const customers = [];
const locations = [];
const contacts = [];
const add = (c, loc, contact) => {
  customers.push({
    companyName: '',
    firstName: '',
    lastName: '',
    companyABN: '',
    companyACN: '',
    customID: '',
    status: 'ACTIVE',
    currency: 'AUD',
    customerTierID: 'DEFAULT',
    isreseller: 0,
    autobilling: 0,
    promoCode: '',
    partnerCode: null,
    ...c,
    stdName: c.companyName || `${c.firstName} ${c.lastName}`,
    dateModified: c.dateModified ?? c.dateCreated,
  });
  locations.push({ customerId: c.id, typeOfAddress: 'primary', addressLine2: '', addressLine3: '', ...loc });
  contacts.push({
    customerId: c.id,
    typeOfContact: 'administrative',
    phoneNumber: '',
    mobileNumber: '',
    faxNumber: '',
    ...contact,
  });
};

add(
  {
    id: 1,
    parentID: null,
    companyName: 'RackCorp Sandbox Reseller',
    firstName: 'Sandra',
    lastName: 'Box',
    companyABN: '98765432109',
    companyACN: '987654321',
    customID: 'SANDBOX',
    isreseller: 1,
    dateCreated: BASE - 86400 * 400,
  },
  { addressLine1: '1 Sandbox Way', suburb: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' },
  { name: 'Sandra Box', phoneNumber: '+61 2 9000 0001', email: 'sandbox@example.com' },
);

const firsts = [
  'Alice',
  'Bruce',
  'Chloe',
  'Dmitri',
  'Emma',
  'Farid',
  'Grace',
  'Hiro',
  'Isla',
  'Jack',
  'Kiri',
  'Liam',
  'Mei',
  'Noah',
  'Olivia',
  'Priya',
];
const lasts = [
  'Nguyen',
  'Smith',
  'Williams',
  'Brown',
  'Jones',
  'Taylor',
  'Wilson',
  'Martin',
  'Lee',
  'Walker',
  'Chen',
  'Kelly',
];
const words = [
  'Harbour',
  'Outback',
  'Coral',
  'Summit',
  'Southern',
  'Eucalypt',
  'Kestrel',
  'Blue Gum',
  'Redgum',
  'Wattle',
  'Lyrebird',
  'Boulder',
];
const kinds = ['Hosting', 'Networks', 'Cloud', 'Digital', 'Systems', 'Analytics', 'Media', 'Logistics'];
const places = [
  ['Sydney', 'NSW', '2000'],
  ['Melbourne', 'VIC', '3000'],
  ['Brisbane', 'QLD', '4000'],
  ['Perth', 'WA', '6000'],
  ['Adelaide', 'SA', '5000'],
  ['Hobart', 'TAS', '7000'],
];

// 2..61: the sandbox's own customers; a few individuals, a few INACTIVE, some under 456 (a sub-reseller).
for (let id = 2; id <= 61; id++) {
  const person = id % 7 === 0;
  const first = pick(firsts),
    last = pick(lasts);
  const company = person ? '' : `${pick(words)} ${pick(kinds)} Pty Ltd`;
  const [suburb, state, postcode] = pick(places);
  add(
    {
      id,
      parentID: id > 50 ? 456 : 1,
      companyName: company ? `${company} ${id}` : '',
      firstName: first,
      lastName: last,
      companyABN: String(10000000000 + id * 7919),
      companyACN: String(100000000 + id * 104729),
      customID: `CUST-${String(100 + id).padStart(3, '0')}`,
      status: id % 11 === 0 ? 'INACTIVE' : id % 17 === 0 ? 'SUSPENDED' : 'ACTIVE',
      currency: id % 5 === 0 ? 'USD' : 'AUD',
      customerTierID: ['DEFAULT', '1', '2', '3'][id % 4],
      dateCreated: BASE - 86400 * (200 - id * 3),
      dateModified: BASE - 86400 * (100 - id),
    },
    { addressLine1: `${id} ${pick(words)} Street`, suburb, state, postcode, country: 'AU' },
    {
      name: `${first} ${last}`,
      phoneNumber: `+61 2 9${String(id).padStart(3, '0')} ${String(1000 + id)}`,
      email: `${first.toLowerCase()}.${last.toLowerCase()}${id}@example.com`,
    },
  );
}
add(
  {
    id: 123,
    parentID: 1,
    companyName: 'Example Corp',
    firstName: 'John',
    lastName: 'Doe',
    companyABN: '12345678901',
    companyACN: '123456789',
    customID: 'CUST-001',
    dateCreated: BASE,
  },
  { addressLine1: '123 Main St', suburb: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' },
  { name: 'John Doe', phoneNumber: '+61 2 1234 5678', mobileNumber: '+61 4 1234 5678', email: 'john@example.com' },
);
add(
  {
    id: 456,
    parentID: 1,
    companyName: 'Partner Hosting Pty Ltd',
    firstName: 'Petra',
    lastName: 'Partner',
    companyABN: '45645645645',
    companyACN: '456456456',
    customID: 'PARTNER-456',
    isreseller: 1,
    partnerCode: 'PARTNER123',
    dateCreated: BASE - 86400 * 300,
  },
  { addressLine1: '456 George St', suburb: 'Sydney', state: 'NSW', postcode: '2000', country: 'AU' },
  { name: 'Petra Partner', phoneNumber: '+61 2 4564 5645', email: 'petra@partner.example.com' },
);
// Another tenant's tree: never visible to the sandbox credentials.
add(
  {
    id: 900,
    parentID: null,
    companyName: 'Other Reseller Ltd',
    firstName: 'Otto',
    lastName: 'Other',
    customID: 'OTHER',
    isreseller: 1,
    currency: 'USD',
    dateCreated: BASE - 86400 * 500,
  },
  { addressLine1: '900 Elsewhere Rd', suburb: 'Auckland', state: 'AUK', postcode: '1010', country: 'NZ' },
  { name: 'Otto Other', email: 'otto@other.example.com' },
);
for (let id = 901; id <= 905; id++) {
  add(
    {
      id,
      parentID: 900,
      companyName: `Other Tenant Client ${id}`,
      firstName: 'Olga',
      lastName: `Client${id}`,
      customID: `OTHER-${id}`,
      currency: 'USD',
      dateCreated: BASE - 86400 * (500 - id + 900),
    },
    { addressLine1: `${id} Elsewhere Rd`, suburb: 'Auckland', state: 'AUK', postcode: '1010', country: 'NZ' },
    { name: `Olga Client${id}`, email: `olga${id}@other.example.com` },
  );
}
customers.sort((a, b) => a.id - b.id);
// Parents before children for the foreign key.
const order = [];
const done = new Set();
const visit = (c) => {
  if (done.has(c.id)) return;
  if (c.parentID) visit(customers.find((p) => p.id === c.parentID));
  done.add(c.id);
  order.push(c);
};
customers.forEach(visit);

const write = (name, rows) => fs.writeFileSync(path.join(out, `${name}.json`), JSON.stringify(rows, null, 1) + '\n');
fs.mkdirSync(out, { recursive: true });
write('rackcorp_customers', order);
write(
  'rackcorp_locations',
  locations.sort((a, b) => a.customerId - b.customerId).map((l, i) => ({ id: i + 1, ...l })),
);
write(
  'rackcorp_contacts',
  contacts.sort((a, b) => a.customerId - b.customerId).map((c, i) => ({ id: i + 1, ...c })),
);
write('rackcorp_api_keys', [
  {
    id: 1,
    uuid: '11111111-2222-4333-8444-555555555555',
    secret: 'rackcorp-sandbox-secret',
    customerId: 1,
    description: 'sandbox API key',
  },
  {
    id: 2,
    uuid: '99999999-8888-4777-8666-555555555555',
    secret: 'rackcorp-other-secret',
    customerId: 900,
    description: 'another tenant',
  },
]);
write('rackcorp_users', [
  {
    id: 1,
    customerId: 1,
    login: 'sandbox@example.com',
    password: 'rackcorp-sandbox-password',
    status: 'ACTIVE',
    dateCreated: BASE - 86400 * 400,
  },
  {
    id: 2,
    customerId: 900,
    login: 'other@example.com',
    password: 'rackcorp-other-password',
    status: 'ACTIVE',
    dateCreated: BASE - 86400 * 500,
  },
  {
    id: 3,
    customerId: 1,
    login: 'inactive@example.com',
    password: 'rackcorp-inactive-password',
    status: 'INACTIVE',
    dateCreated: BASE - 86400 * 10,
  },
]);
write('rackcorp_reseller_portals', [
  {
    id: 1,
    customerId: 1,
    name: 'Sandbox Cloud',
    url: 'https://sandbox.reseller.example.com',
    dateCreated: BASE - 86400 * 390,
  },
  {
    id: 2,
    customerId: 456,
    name: 'Partner Hosting Portal',
    url: 'https://portal.partner.example.com',
    dateCreated: BASE - 86400 * 290,
  },
  { id: 3, customerId: 900, name: 'Other Portal', url: 'https://other.example.com', dateCreated: BASE - 86400 * 490 },
]);
console.log(`wrote ${customers.length} customers to ${out}`);
