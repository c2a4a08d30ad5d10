/**
 * XML at the edge, for the vendors that speak it (Rackspace, UniPay). Parsing is hardened before
 * fast-xml-parser ever sees the text: no DOCTYPE (so no entity declarations, external or
 * recursive), a depth limit and a size limit; anything else refused is reported as an XmlError
 * that the vendor turns into its own 400.
 */
import { XMLParser, XMLBuilder, XMLValidator, type X2jOptions, type XmlBuilderOptions } from 'fast-xml-parser';
import type { FastifyInstance } from 'fastify';

export class XmlError extends Error {}

export interface XmlParseLimits {
  maxDepth: number;
  maxBytes: number;
}

export const DEFAULT_XML_LIMITS: XmlParseLimits = { maxDepth: 32, maxBytes: 1_048_576 };

const parserOptions: Partial<X2jOptions> = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  // Only the five predefined entities and character references (`&#13;`, `&#x41;`); DOCTYPEs are
  // refused before this. fast-xml-parser decodes character references only when given a set of
  // named entities here, so the set is XML's own five (no HTML names such as `&nbsp;`).
  processEntities: true,
  htmlEntities: { amp: '&', apos: "'", gt: '>', lt: '<', quot: '"' } as unknown as boolean,
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  removeNSPrefix: true,
};

function checkDepth(text: string, maxDepth: number): void {
  let depth = 0;
  const tag = /<(\/?)([A-Za-z_][\w.:-]*)[^>]*?(\/?)>/g;
  let m: RegExpExecArray | null;
  while ((m = tag.exec(text)) !== null) {
    if (m[1]) depth--;
    else if (!m[3]) {
      depth++;
      if (depth > maxDepth) throw new XmlError(`XML nested deeper than ${maxDepth} elements`);
    }
  }
}

/** Parse an XML document into plain objects (attributes as `@_name`), or throw XmlError. */
export function parseXml(text: string, limits: XmlParseLimits = DEFAULT_XML_LIMITS): Record<string, unknown> {
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes)
    throw new XmlError(`XML body larger than ${limits.maxBytes} bytes`);
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text))
    throw new XmlError('DOCTYPE and entity declarations are not accepted');
  if (text.trim() === '') throw new XmlError('empty XML body');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlError(`malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  checkDepth(text, limits.maxDepth);
  return new XMLParser(parserOptions).parse(text) as Record<string, unknown>;
}

/**
 * The five predefined entities, and a carriage return as `&#13;`: a parser turns a literal CR (or
 * CR LF) into LF (XML 1.0, 2.11), so only the reference carries a stored CR back to the client.
 */
const BUILDER_ENTITIES = [
  { regex: /&/g, val: '&amp;' },
  { regex: />/g, val: '&gt;' },
  { regex: /</g, val: '&lt;' },
  { regex: /'/g, val: '&apos;' },
  { regex: /"/g, val: '&quot;' },
  { regex: /\r/g, val: '&#13;' },
];
const BUILDER_DEFAULTS: Partial<XmlBuilderOptions> = {
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  format: true,
  indentBy: '  ',
  suppressEmptyNode: false,
  entities: BUILDER_ENTITIES,
} as Partial<XmlBuilderOptions>;
/**
 * Builders made once per set of options and reused (a builder keeps no state between builds).
 * Only options made of plain values are remembered (a function option builds a new builder).
 */
const builders = new Map<string, XMLBuilder>();

function builderFor(options: Partial<XmlBuilderOptions>): XMLBuilder {
  let key = '';
  for (const k in options) {
    const v = (options as Record<string, unknown>)[k];
    if ((v !== null && typeof v === 'object') || typeof v === 'function')
      return new XMLBuilder({ ...BUILDER_DEFAULTS, ...options });
    key += `${JSON.stringify(k)}:${typeof v}:${JSON.stringify(String(v))},`;
  }
  let builder = builders.get(key);
  if (builder === undefined) {
    builder = new XMLBuilder({ ...BUILDER_DEFAULTS, ...options });
    if (builders.size >= 32) builders.clear();
    builders.set(key, builder);
  }
  return builder;
}

/** Build XML text from plain objects (attributes as `@_name`). */
export function buildXml(obj: unknown, options: Partial<XmlBuilderOptions> = {}): string {
  return builderFor(options).build(obj) as string;
}

const XML_SPECIAL = /[&<>'"\r]/;
const XML_SPECIAL_G = /[&<>'"\r]/g;
const XML_ENTITY: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  "'": '&apos;',
  '"': '&quot;',
  '\r': '&#13;',
};

/**
 * Text content as buildXml writes it: `& < > ' "` as the five predefined entities, a CR as `&#13;`, everything
 * else as is (a value that is not a string is written as its String(), `-0` as `-0`). For code
 * that writes XML text directly and must stay byte-identical to the builder's output.
 */
export function escapeXmlText(value: unknown): string {
  if (typeof value !== 'string') return typeof value === 'number' && Object.is(value, -0) ? '-0' : String(value);
  return XML_SPECIAL.test(value) ? value.replace(XML_SPECIAL_G, (c) => XML_ENTITY[c]) : value;
}

/**
 * Accept XML request bodies in this plugin scope: `text/xml`, `application/xml` and `+xml` types.
 * The parsed body is the document object; failures reach the scope's error handler as XmlError
 * with statusCode 400.
 */
export function addXmlBodyParser(scope: FastifyInstance, limits: XmlParseLimits = DEFAULT_XML_LIMITS): void {
  scope.addContentTypeParser(
    /^(text|application)\/([\w.+-]+\+)?xml(\s*;.*)?$/i,
    { parseAs: 'string' },
    (_req, body, done) => {
      try {
        done(null, parseXml(body as string, limits));
      } catch (e) {
        const err = e as XmlError & { statusCode?: number };
        err.statusCode = 400;
        done(err, undefined);
      }
    },
  );
}
