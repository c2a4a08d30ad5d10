import { describe, expect, it } from 'vitest';
import { customerBody, customerListBody, type Customer } from '../../src/routes/emailsrvr/envelope.js';
import { buildXml, escapeXmlText } from '../../src/routes/shared/xml.js';

// The customer documents are written as text; they must stay the bytes the generic builder gives
// (with the documentation's break after xmlns:xsi), whatever the names hold.
const XSI = 'http://www.w3.org/2001/XMLSchema-instance';
const XSD = 'http://www.w3.org/2001/XMLSchema';
function viaBuilder(root: string, namespace: string, children: Record<string, unknown>): string {
  const text = buildXml({
    [root]: { '@_xmlns:xsi': XSI, '@_xmlns:xsd': XSD, '@_xmlns': namespace, ...children },
  }).trimEnd();
  const end = text.indexOf('>');
  return `<?xml version="1.0" encoding="utf-8"?>\n${text.slice(0, end).replace(` xmlns:xsd="${XSD}"`, `\n xmlns:xsd="${XSD}"`)}${text.slice(end)}`;
}
function fields(c: Customer): Record<string, string> {
  const out: Record<string, string> = { name: c.name, accountNumber: String(c.accountNumber) };
  if (c.referenceNumber !== null) out.referenceNumber = c.referenceNumber;
  return out;
}

const NAMES = [
  'Acme',
  '',
  ' ',
  'A & B <C> "D" \'E\'',
  '&amp;',
  ']]>',
  'line\nbreak\ttab',
  'é 😀 ü',
  '<name>',
  '0',
  '-0',
];
const customers: Customer[] = NAMES.map((name, i) => ({
  name,
  accountNumber: 460200 + i,
  referenceNumber: i % 3 === 0 ? null : NAMES[(i * 5) % NAMES.length],
}));

describe('customer documents written as text', () => {
  it('a customer: the same bytes as the builder', () => {
    for (const c of customers) {
      expect(customerBody(c, 'xml').payload).toBe(viaBuilder('customer', 'urn:xml:customer', fields(c)));
    }
  });
  it('a list, empty or not, offset -0 included: the same bytes as the builder', () => {
    for (const list of [
      { offset: 0, size: 50, total: 0, customers: [] },
      { offset: -0, size: 1, total: 11, customers: customers.slice(0, 1) },
      { offset: 5, size: 250, total: 11, customers },
    ]) {
      expect(customerListBody(list, 'xml').payload).toBe(
        viaBuilder('customerList', 'urn:xml:customerList', {
          offset: list.offset,
          size: list.size,
          total: list.total,
          customers: list.customers.length === 0 ? '' : { customer: list.customers.map(fields) },
        }),
      );
    }
  });
  it('escapeXmlText escapes as the builder does; other values are their text', () => {
    expect(escapeXmlText('a&b<c>d\'e"f')).toBe('a&amp;b&lt;c&gt;d&apos;e&quot;f');
    expect(escapeXmlText('plain')).toBe('plain');
    expect(escapeXmlText(12)).toBe('12');
    expect(escapeXmlText(-0)).toBe('-0');
  });
});
