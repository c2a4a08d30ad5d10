import { describe, expect, it } from 'vitest';
import { emailsrvr, rewriteUrl } from '../../src/routes/emailsrvr/index.js';
import { parseArgs } from '../../src/server/config.js';

describe('rewriteUrl', () => {
  it('maps /v1/customers and /customers onto /v0/customers, keeping the query', () => {
    expect(rewriteUrl('/customers')).toBe('/v0/customers');
    expect(rewriteUrl('/customers?size=100&page=1')).toBe('/v0/customers?size=100&page=1');
    expect(rewriteUrl('/customers/460182')).toBe('/v0/customers/460182');
    expect(rewriteUrl('/v1/customers')).toBe('/v0/customers');
    expect(rewriteUrl('/v1/customers/me?x=1')).toBe('/v0/customers/me?x=1');
    expect(rewriteUrl('/v0/customers/me')).toBe('/v0/customers/me');
  });
  it('leaves every other path alone', () => {
    for (const url of [
      '/api/v01/customers',
      '/api/rest/v2.9/customers/1',
      '/api/customer/list',
      '/customersfoo',
      '/v2/customers',
      '/_emulator/health',
      '/x/customers',
      '/v1/customers-old',
    ]) {
      expect(rewriteUrl(url)).toBeUndefined();
    }
  });
});

describe('fault presets', () => {
  it('throttle: 403 "Exceeded request limits" in the format Accept asks for (XML by default)', () => {
    const json = emailsrvr.faultPresets!.throttle({ accept: 'application/json' });
    expect(json).toEqual({
      status: 403,
      headers: { 'content-type': 'application/json; charset=utf-8' },
      body: '{"unauthorizedFault":{"code":403,"message":"Exceeded request limits","details":"Exceeded request limits"}}',
    });
    const xml = emailsrvr.faultPresets!.throttle({});
    expect(xml.status).toBe(403);
    expect(xml.headers!['content-type']).toBe('text/xml; charset=utf-8');
    expect(xml.body).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<unauthorizedFault code="403">\n  <message>Exceeded request limits</message>\n  <details>Exceeded request limits</details>\n</unauthorizedFault>',
    );
  });
  it('appsFault: 500, message overridable', () => {
    const a = emailsrvr.faultPresets!.appsFault({ accept: 'text/xml', message: 'Service unavailable' });
    expect(a.status).toBe(500);
    expect(a.body).toBe(
      '<?xml version="1.0" encoding="utf-8"?>\n<appsFault code="500">\n  <message>Service unavailable</message>\n  <details>Service unavailable</details>\n</appsFault>',
    );
    expect(JSON.parse(emailsrvr.faultPresets!.appsFault({ accept: 'application/json' }).body).appsFault.code).toBe(500);
  });
});

describe('options', () => {
  it('reads the skew and rate limit from flags and environment', () => {
    const fromEnv = parseArgs([], { EMAILSRVR_SKEW_SECONDS: '600', EMAILSRVR_RATE_LIMIT: '60' }).config;
    expect(fromEnv.emailsrvrSkewSeconds).toBe(600);
    expect(fromEnv.emailsrvrRateLimit).toBe(60);
    const fromFlags = parseArgs(['--emailsrvr-skew-seconds', '30', '--emailsrvr-rate-limit=5'], {}).config;
    expect(fromFlags.emailsrvrSkewSeconds).toBe(30);
    expect(fromFlags.emailsrvrRateLimit).toBe(5);
    const defaults = parseArgs([], {}).config;
    expect(defaults.emailsrvrSkewSeconds).toBe(86400);
    expect(defaults.emailsrvrRateLimit).toBe(0);
  });
});
