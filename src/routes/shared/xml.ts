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
  // Only the five predefined entities and character references; DOCTYPEs are refused before this.
  processEntities: true,
  htmlEntities: false,
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
  if (Buffer.byteLength(text, 'utf8') > limits.maxBytes) throw new XmlError(`XML body larger than ${limits.maxBytes} bytes`);
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) throw new XmlError('DOCTYPE and entity declarations are not accepted');
  if (text.trim() === '') throw new XmlError('empty XML body');
  const valid = XMLValidator.validate(text);
  if (valid !== true) throw new XmlError(`malformed XML: ${valid.err.msg} (line ${valid.err.line})`);
  checkDepth(text, limits.maxDepth);
  return new XMLParser(parserOptions).parse(text) as Record<string, unknown>;
}

/** Build XML text from plain objects (attributes as `@_name`). */
export function buildXml(obj: unknown, options: Partial<XmlBuilderOptions> = {}): string {
  return new XMLBuilder({ ignoreAttributes: false, attributeNamePrefix: '@_', format: true, indentBy: '  ', suppressEmptyNode: false, ...options }).build(obj) as string;
}

/**
 * Accept XML request bodies in this plugin scope: `text/xml`, `application/xml` and `+xml` types.
 * The parsed body is the document object; failures reach the scope's error handler as XmlError
 * with statusCode 400.
 */
export function addXmlBodyParser(scope: FastifyInstance, limits: XmlParseLimits = DEFAULT_XML_LIMITS): void {
  scope.addContentTypeParser(/^(text|application)\/([\w.+-]+\+)?xml(\s*;.*)?$/i, { parseAs: 'string' }, (_req, body, done) => {
    try {
      done(null, parseXml(body as string, limits));
    } catch (e) {
      const err = e as XmlError & { statusCode?: number };
      err.statusCode = 400;
      done(err, undefined);
    }
  });
}
