#!/usr/bin/env node
/**
 * Large fixture sets for the scale benchmark and for users who want a realistic volume:
 *
 *   npm run generate -- --customers N --out DIR [--seed S] [--fixtures ./fixtures]
 *
 * Writes a fixtures folder loadable with `--fixtures DIR`, for all four vendors. Every table of
 * the default fixtures is copied as is (credentials, accounts, products, the documented example
 * customers), then each vendor's customer table is topped up to N customers (N per vendor; the
 * default customers count towards N), with their dependent rows:
 *   - RackCorp: customers under the sandbox reseller (customer 1), one location and one contact each;
 *   - Rackspace Email & Apps: customer accounts of the sandbox reseller 460180;
 *   - NeuCRM: customers of reseller 1 / ISP 1 (the sandbox user 5 sees them), one service each;
 *   - UniPay: customers of the sandbox user's accounts 2001 and 2002.
 * Tables that grow are written as JSON Lines (`<table>.jsonl`: a header line naming the columns,
 * then one array of values per row), which the loader streams; the copied small tables stay
 * `<table>.json`.
 *
 * Deterministic: the same N, seed and default fixtures give byte-identical files (a seeded PRNG,
 * fixed dates, no clock, no Map/Set iteration over unordered input).
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

function parse(argv) {
  const o = { customers: null, out: null, seed: 1, fixtures: path.join(ROOT, 'fixtures') };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [k, inline] = a.includes('=') ? a.split(/=(.*)/s) : [a, undefined];
    const val = () => (inline !== undefined ? inline : argv[++i]);
    if (k === '--customers') o.customers = Number(val());
    else if (k === '--out') o.out = val();
    else if (k === '--seed') o.seed = Number(val());
    else if (k === '--fixtures') o.fixtures = val();
    else if (k === '--help' || k === '-h') o.help = true;
    else throw new Error(`unknown argument ${a}`);
  }
  return o;
}

/** mulberry32: small, fast, good enough for test data; seeded per vendor so vendors are independent. */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = [
  'James',
  'Mary',
  'Robert',
  'Patricia',
  'John',
  'Jennifer',
  'Michael',
  'Linda',
  'David',
  'Elizabeth',
  'William',
  'Barbara',
  'Richard',
  'Susan',
  'Joseph',
  'Jessica',
  'Thomas',
  'Sarah',
  'Charles',
  'Karen',
  'Priya',
  'Arjun',
  'Ananya',
  'Rohan',
  'Aiko',
  'Kenji',
  'Mei',
  'Wei',
  'Olga',
  'Ivan',
  'Fatima',
  'Omar',
  'Chloe',
  'Lucas',
  'Noah',
  'Emma',
  'Liam',
  'Olivia',
  'Mateo',
  'Sofia',
];
const LAST = [
  'Smith',
  'Johnson',
  'Williams',
  'Brown',
  'Jones',
  'Garcia',
  'Miller',
  'Davis',
  'Rodriguez',
  'Martinez',
  'Hernandez',
  'Lopez',
  'Gonzalez',
  'Wilson',
  'Anderson',
  'Thomas',
  'Taylor',
  'Moore',
  'Jackson',
  'Martin',
  'Lee',
  'Perez',
  'Thompson',
  'White',
  'Harris',
  'Sanchez',
  'Clark',
  'Ramirez',
  'Lewis',
  'Robinson',
  'Walker',
  'Young',
  'Allen',
  'King',
  'Wright',
  'Scott',
  'Torres',
  'Nguyen',
  'Hill',
  'Flores',
  'Patel',
  'Sharma',
  'Iyer',
  'Nair',
  'Tanaka',
  'Suzuki',
  'Chen',
  'Wang',
  'Kowalski',
  'Novak',
];
const ADJ = [
  'Amber',
  'Blue',
  'Bright',
  'Cedar',
  'Coastal',
  'Copper',
  'Crimson',
  'Delta',
  'Eastern',
  'Emerald',
  'Falcon',
  'Golden',
  'Granite',
  'Harbour',
  'Highland',
  'Indigo',
  'Iron',
  'Jade',
  'Kestrel',
  'Lakeside',
  'Maple',
  'Meridian',
  'Northern',
  'Oak',
  'Orbit',
  'Pacific',
  'Pine',
  'Quartz',
  'Redwood',
  'Riverside',
  'Sapphire',
  'Silver',
  'Southern',
  'Summit',
  'Sunrise',
  'Tidal',
  'Upland',
  'Valley',
  'Western',
  'Willow',
];
const NOUN = [
  'Analytics',
  'Bakery',
  'Builders',
  'Cafe',
  'Clinic',
  'Consulting',
  'Dental',
  'Design',
  'Electrical',
  'Engineering',
  'Farms',
  'Fitness',
  'Freight',
  'Gardens',
  'Hardware',
  'Hotels',
  'Imports',
  'Insurance',
  'Labs',
  'Legal',
  'Logistics',
  'Media',
  'Motors',
  'Networks',
  'Optics',
  'Pharmacy',
  'Plumbing',
  'Printing',
  'Realty',
  'Robotics',
  'Software',
  'Solar',
  'Studios',
  'Systems',
  'Textiles',
  'Timber',
  'Traders',
  'Travel',
  'Ventures',
  'Wines',
];
const SUFFIX = ['Pty Ltd', 'Ltd', 'Inc', 'LLC', 'Group', 'Co'];
const CITIES = [
  ['Sydney', 'NSW', '2000'],
  ['Melbourne', 'VIC', '3000'],
  ['Brisbane', 'QLD', '4000'],
  ['Perth', 'WA', '6000'],
  ['Adelaide', 'SA', '5000'],
  ['Hobart', 'TAS', '7000'],
  ['Canberra', 'ACT', '2600'],
  ['Darwin', 'NT', '0800'],
];
const IN_CITIES = [
  ['Panaji', 'Goa', '403001'],
  ['Margao', 'Goa', '403601'],
  ['Mapusa', 'Goa', '403507'],
  ['Vasco da Gama', 'Goa', '403802'],
];
const US_CITIES = [
  ['New York', 'NY', '10001', 'US'],
  ['Seattle', 'WA', '98101', 'US'],
  ['Austin', 'TX', '73301', 'US'],
  ['Toronto', 'ON', 'M5H', 'CA'],
  ['London', 'LDN', 'EC1A', 'GB'],
  ['Berlin', 'BE', '10115', 'DE'],
  ['Sydney', 'NSW', '2000', 'AU'],
];

const pick = (r, a) => a[Math.floor(r() * a.length)];
const digits = (r, n) => {
  let s = '';
  for (let i = 0; i < n; i++) s += Math.floor(r() * 10);
  return s;
};
const pad = (n, w) => String(n).padStart(w, '0');

function readJson(dir, vendor, table) {
  const f = path.join(dir, vendor, `${table}.json`);
  return fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, 'utf8')) : null;
}

/** Copy every `.json` table of one vendor, except those listed (which are written as .jsonl). */
function copyStatic(src, out, vendor, except) {
  const from = path.join(src, vendor);
  const to = path.join(out, vendor);
  fs.mkdirSync(to, { recursive: true });
  for (const f of fs.readdirSync(from).sort()) {
    if (!f.endsWith('.json')) continue;
    if (except.includes(f.slice(0, -5))) continue;
    fs.copyFileSync(path.join(from, f), path.join(to, f));
  }
}

/**
 * Streams rows as JSON Lines through a large buffer (1M rows write in a second or two), in the
 * compact form the loader reads fastest: a header line naming the columns, then one array of
 * values per row. The columns are those of the table's copied default rows (every key, in first
 * seen order); a row with other keys is written as a row object, which the loader also takes.
 */
class JsonlWriter {
  constructor(file, columns) {
    this.fd = fs.openSync(file, 'w');
    this.columns = columns;
    this.known = new Set(columns);
    this.parts = [];
    this.size = 0;
    if (columns.length > 0) this.push(JSON.stringify(columns));
  }
  write(row) {
    const keys = Object.keys(row);
    const positional = keys.length === this.columns.length && keys.every((k) => this.known.has(k));
    this.push(JSON.stringify(positional ? this.columns.map((c) => row[c]) : row));
  }
  push(line) {
    const s = line + '\n';
    this.parts.push(s);
    this.size += s.length;
    if (this.size > 1 << 22) this.flush();
  }
  flush() {
    if (this.parts.length) fs.writeSync(this.fd, this.parts.join(''));
    this.parts = [];
    this.size = 0;
  }
  close() {
    this.flush();
    fs.closeSync(this.fd);
  }
}

/** Every key of `rows`, in first seen order. */
const columnsOf = (rows) => [...new Set(rows.flatMap((r) => Object.keys(r)))];

function writeTable(out, vendor, table, base, generate) {
  const w = new JsonlWriter(path.join(out, vendor, `${table}.jsonl`), columnsOf(base));
  for (const r of base) w.write(r);
  generate((row) => w.write(row));
  w.close();
}

const DAY = 86400;
const T0 = 1577836800; // 2020-01-01T00:00:00Z: generated rows are dated from here on, one per 97 s

function rackcorp(src, out, n, seed) {
  const v = 'rackcorp';
  const big = ['rackcorp_customers', 'rackcorp_locations', 'rackcorp_contacts'];
  copyStatic(src, out, v, big);
  const customers = readJson(src, v, 'rackcorp_customers');
  const locations = readJson(src, v, 'rackcorp_locations');
  const contacts = readJson(src, v, 'rackcorp_contacts');
  const extra = Math.max(0, n - customers.length);
  const firstId = Math.max(...customers.map((c) => c.id)) + 1;
  let locId = Math.max(...locations.map((c) => c.id)) + 1;
  let conId = Math.max(...contacts.map((c) => c.id)) + 1;
  const r = prng(seed * 7919 + 1);
  const wc = new JsonlWriter(path.join(out, v, 'rackcorp_customers.jsonl'), columnsOf(customers));
  const wl = new JsonlWriter(path.join(out, v, 'rackcorp_locations.jsonl'), columnsOf(locations));
  const wk = new JsonlWriter(path.join(out, v, 'rackcorp_contacts.jsonl'), columnsOf(contacts));
  customers.forEach((c) => wc.write(c));
  locations.forEach((c) => wl.write(c));
  contacts.forEach((c) => wk.write(c));
  for (let i = 0; i < extra; i++) {
    const id = firstId + i;
    const first = pick(r, FIRST);
    const last = pick(r, LAST);
    const org = r() < 0.6;
    const companyName = org ? `${pick(r, ADJ)} ${pick(r, NOUN)} ${pick(r, SUFFIX)}` : '';
    const created = T0 + i * 97;
    const [suburb, state, postcode] = pick(r, CITIES);
    wc.write({
      id,
      parentID: 1,
      companyName,
      firstName: first,
      lastName: last,
      stdName: companyName || `${first} ${last}`,
      companyABN: org ? digits(r, 11) : '',
      companyACN: org ? digits(r, 9) : '',
      customID: `GEN-${pad(id, 8)}`,
      status: r() < 0.9 ? 'ACTIVE' : r() < 0.5 ? 'INACTIVE' : 'SUSPENDED',
      currency: r() < 0.8 ? 'AUD' : 'USD',
      customerTierID: pick(r, ['DEFAULT', 'DEFAULT', 'DEFAULT', '1', '2', '3']),
      isreseller: 0,
      autobilling: r() < 0.3 ? 1 : 0,
      promoCode: '',
      partnerCode: null,
      dateCreated: created,
      dateModified: created + Math.floor(r() * 30) * DAY,
    });
    wl.write({
      id: locId++,
      customerId: id,
      typeOfAddress: 'primary',
      addressLine1: `${1 + Math.floor(r() * 400)} ${pick(r, ADJ)} St`,
      addressLine2: '',
      addressLine3: '',
      suburb,
      state,
      postcode,
      country: 'AU',
    });
    wk.write({
      id: conId++,
      customerId: id,
      typeOfContact: 'administrative',
      name: `${first} ${last}`,
      phoneNumber: `+612${digits(r, 8)}`,
      mobileNumber: `+614${digits(r, 8)}`,
      faxNumber: '',
      email: `${first}.${last}.${id}@example.com`.toLowerCase(),
    });
  }
  wc.close();
  wl.close();
  wk.close();
}

function emailsrvr(src, out, n, seed) {
  const v = 'emailsrvr';
  copyStatic(src, out, v, ['emailsrvr_accounts']);
  const accounts = readJson(src, v, 'emailsrvr_accounts');
  const customers = accounts.filter((a) => a.reseller_account !== null).length;
  const extra = Math.max(0, n - customers);
  let next = Math.max(...accounts.map((a) => a.account_number)) + 1;
  const r = prng(seed * 7919 + 2);
  writeTable(out, v, 'emailsrvr_accounts', accounts, (w) => {
    for (let i = 0; i < extra; i++) {
      const name =
        r() < 0.7 ? `${pick(r, ADJ)} ${pick(r, NOUN)} ${pick(r, SUFFIX)}` : `${pick(r, FIRST)} ${pick(r, LAST)}`;
      w({
        account_number: next++,
        name,
        reference_number: r() < 0.5 ? String(100000 + i) : null,
        reseller_account: 460180,
        is_reseller: 0,
      });
    }
  });
}

function ispcrm(src, out, n, seed) {
  const v = 'ispcrm';
  copyStatic(src, out, v, ['ispcrm_customers', 'ispcrm_services']);
  const customers = readJson(src, v, 'ispcrm_customers');
  const services = readJson(src, v, 'ispcrm_services');
  const extra = Math.max(0, n - customers.length);
  let id = Math.max(...customers.map((c) => c.id)) + 1;
  let sid = Math.max(...services.map((s) => s.id)) + 1;
  const r = prng(seed * 7919 + 3);
  const ws = new JsonlWriter(path.join(out, v, 'ispcrm_services.jsonl'), columnsOf(services));
  services.forEach((s) => ws.write(s));
  const iso = (s) => new Date(s * 1000).toISOString().slice(0, 19).replace('T', ' ');
  writeTable(out, v, 'ispcrm_customers', customers, (w) => {
    for (let i = 0; i < extra; i++, id++) {
      const org = r() < 0.4;
      const first = pick(r, FIRST);
      const name = org ? `${pick(r, ADJ)} ${pick(r, NOUN)}` : first;
      const surname = org ? null : pick(r, LAST);
      const [city, state, zipcode] = pick(r, IN_CITIES);
      const created = iso(T0 + i * 97);
      w({
        id,
        ispid: 1,
        resellerid: 1,
        type: org ? 'Organisation' : 'Individual',
        name,
        surname,
        dob: org
          ? null
          : `19${50 + Math.floor(r() * 50)}-${pad(1 + Math.floor(r() * 12), 2)}-${pad(1 + Math.floor(r() * 28), 2)}`,
        mobile: `9${digits(r, 9)}`,
        email: `${name.replace(/ /g, '').toLowerCase()}${id}@example.in`,
        uniqueid: null,
        zipcode,
        state,
        city,
        street: `${1 + Math.floor(r() * 300)}, ${pick(r, ADJ)} Road`,
        notes: null,
        created,
        updated: created,
      });
      // Zero-padded like the other generated codes: the usernames then sort in insertion order, so
      // their UNIQUE index is appended to rather than written all over (about 0.2 s less at 1M).
      ws.write({
        id: sid++,
        customerid: id,
        username: `gen_${pad(id, 8)}`,
        plan: pick(r, ['Fiber 50 Mbps', 'Fiber 100 Mbps', 'Fiber 300 Mbps']),
        status: r() < 0.85 ? 'Active' : r() < 0.5 ? 'Suspended' : 'Terminated',
        created,
      });
    }
  });
  ws.close();
}

function mgmt(src, out, n, seed) {
  const v = 'mgmt';
  copyStatic(src, out, v, ['mgmt_customers']);
  const customers = readJson(src, v, 'mgmt_customers');
  const extra = Math.max(0, n - customers.length);
  let id = Math.max(...customers.map((c) => c.id)) + 1;
  const r = prng(seed * 7919 + 4);
  writeTable(out, v, 'mgmt_customers', customers, (w) => {
    for (let i = 0; i < extra; i++, id++) {
      const org = r() < 0.3;
      const first = pick(r, FIRST);
      const last = pick(r, LAST);
      const [city, state, zip, country] = pick(r, US_CITIES);
      w({
        id,
        code: r() < 0.5 ? String(id) : `CUST-${pad(id, 8)}`,
        account_id: r() < 0.7 ? 2001 : 2002,
        title: null,
        first_name: first,
        middle_name: null,
        last_name: last,
        suffix: null,
        birth_date: null,
        gender: r() < 0.5 ? 'M' : 'F',
        organization_name: org ? `${pick(r, ADJ)} ${pick(r, NOUN)} ${pick(r, SUFFIX)}` : null,
        email: `${first}.${last}${id}@example.com`.toLowerCase(),
        phone: `1${digits(r, 10)}`,
        street: `${1 + Math.floor(r() * 900)} ${pick(r, ADJ)} Ave`,
        city,
        state,
        zip_code: zip,
        country_code: country,
        created_at: new Date((T0 + i * 97) * 1000).toISOString(),
      });
    }
  });
}

export function generate({ customers, out, seed = 1, fixtures = path.join(ROOT, 'fixtures') }) {
  if (!Number.isInteger(customers) || customers < 0) throw new Error('--customers must be a non-negative integer');
  if (!out) throw new Error('--out DIR is required');
  if (!Number.isInteger(seed)) throw new Error('--seed must be an integer');
  fs.rmSync(out, { recursive: true, force: true });
  fs.mkdirSync(out, { recursive: true });
  rackcorp(fixtures, out, customers, seed);
  emailsrvr(fixtures, out, customers, seed);
  ispcrm(fixtures, out, customers, seed);
  mgmt(fixtures, out, customers, seed);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  let o;
  try {
    o = parse(process.argv.slice(2));
    if (o.help) {
      process.stdout.write('usage: npm run generate -- --customers N --out DIR [--seed S] [--fixtures SRC]\n');
      process.exit(0);
    }
    if (o.customers === null) throw new Error('--customers N is required');
    const t = Date.now();
    generate(o);
    process.stdout.write(
      `generated ${o.customers} customers per vendor (seed ${o.seed}) in ${o.out} (${((Date.now() - t) / 1000).toFixed(1)} s)\n`,
    );
  } catch (e) {
    process.stderr.write(`generate: ${e.message}\n`);
    process.exit(2);
  }
}
