/**
 * Redaction of credentials in what shadow mode (--upstream) keeps: a real vendor's credentials
 * pass through to the vendor but are never written to the journal, the drift report or an
 * export. Headers, query parameters, form, JSON and XML fields whose name says credential
 * (Authorization, cookies, APISECRET, api_key, signatures, passwords, tokens, secrets) get their
 * value replaced by REDACTED, and the names of what was replaced are listed.
 */
export const REDACTED = '[redacted]';

const SECRET_NAME =
  /^(authorization|proxy-authorization|cookie|set-cookie|x-emulator-shadow)$|secret|passw|token|signature|api_?key|apikey|sessionid|jwtsessionid/i;

export function isSecretName(name: string): boolean {
  return SECRET_NAME.test(name);
}

export function redactHeaders(
  headers: Record<string, unknown>,
  where: string,
  redacted: Set<string>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(headers)) {
    if (v !== undefined && isSecretName(k)) {
      out[k] = Array.isArray(v) ? v.map(() => REDACTED) : REDACTED;
      redacted.add(`${where}:${k.toLowerCase()}`);
    } else out[k] = v;
  }
  return out;
}

export function redactQuery(query: Record<string, unknown>, redacted: Set<string>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(query)) {
    if (isSecretName(k)) {
      out[k] = REDACTED;
      redacted.add(`query:${k}`);
    } else out[k] = v;
  }
  return out;
}

/** A URL with the values of credential query parameters replaced. */
export function redactUrl(url: string, redacted: Set<string>): string {
  const q = url.indexOf('?');
  if (q === -1) return url;
  const params = new URLSearchParams(url.slice(q + 1));
  let changed = false;
  for (const k of [...new Set(params.keys())]) {
    if (!isSecretName(k)) continue;
    params.set(k, REDACTED);
    redacted.add(`query:${k}`);
    changed = true;
  }
  return changed ? `${url.slice(0, q)}?${params.toString()}` : url;
}

function redactJson(v: unknown, where: string, redacted: Set<string>): unknown {
  if (Array.isArray(v)) return v.map((x) => redactJson(x, where, redacted));
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      if (isSecretName(k) && x !== null && typeof x !== 'object') {
        out[k] = REDACTED;
        redacted.add(`${where}:${k}`);
      } else out[k] = redactJson(x, where, redacted);
    }
    return out;
  }
  return v;
}

/**
 * A body with credential fields replaced: JSON, form or XML, told apart by the content type and
 * the text itself. A text none of them reads (a truncated JSON body) gets the same replacement
 * by pattern.
 */
export function redactBody(
  text: string,
  contentType: string | undefined,
  where: string,
  redacted: Set<string>,
): string {
  if (text === '') return text;
  const ct = (contentType ?? '').toLowerCase();
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[') || /json/.test(ct)) {
    try {
      return JSON.stringify(redactJson(JSON.parse(text), where, redacted));
    } catch {
      // Truncated or malformed: by pattern below.
    }
  }
  if (
    /x-www-form-urlencoded/.test(ct) ||
    (!trimmed.startsWith('<') && !trimmed.startsWith('{') && /^[^=&\s]+=/.test(trimmed))
  ) {
    const params = new URLSearchParams(text);
    let changed = false;
    for (const k of [...new Set(params.keys())]) {
      if (!isSecretName(k)) continue;
      params.set(k, REDACTED);
      redacted.add(`${where}:${k}`);
      changed = true;
    }
    return changed ? params.toString() : text;
  }
  // XML elements and attributes, and "name": "value" pairs of a JSON text no parser reads.
  return text
    .replace(/<([A-Za-z_][\w.-]*)(\s[^>]*)?>([^<]*)<\/\1>/g, (m, name: string, attrs: string | undefined) => {
      if (!isSecretName(name)) return m;
      redacted.add(`${where}:${name}`);
      return `<${name}${attrs ?? ''}>${REDACTED}</${name}>`;
    })
    .replace(/([A-Za-z_][\w.-]*)="([^"]*)"/g, (m, name: string) => {
      if (!isSecretName(name)) return m;
      redacted.add(`${where}:${name}`);
      return `${name}="${REDACTED}"`;
    })
    .replace(/"([^"\\]+)"(\s*:\s*)"(?:[^"\\]|\\.)*"?/g, (m, name: string, sep: string) => {
      if (!isSecretName(name)) return m;
      redacted.add(`${where}:${name}`);
      return `"${name}"${sep}"${REDACTED}"`;
    });
}
