// vendor-api-emulator dashboard: plain DOM, no framework. Everything shown comes from the JSON
// control routes and is put on the page as text (textContent / text nodes), never as markup.
'use strict';
(() => {
  const API = location.pathname.replace(/\/ui\/?$/, ''); // "/_emulator"
  const $ = (id) => document.getElementById(id);
  const store = window.sessionStorage;
  let token = store.getItem('emu.token') || '';
  let session = store.getItem('emu.session') || ''; // '' = the default state
  let vendors = [];
  let selected = null; // journal entry key shown in the detail pane
  let entries = [];
  let dataOffset = 0;
  let blocked = false; // waiting for a token
  const last = {}; // section -> JSON last rendered (skip identical redraws)
  const LIMIT = 50;

  /** Make an element; string children become text nodes. */
  function h(tag, props, ...kids) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className = v;
      else if (v !== undefined && v !== null && v !== false) el.setAttribute(k, v === true ? '' : String(v));
    }
    for (const c of kids.flat(Infinity))
      if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
    return el;
  }
  const fill = (el, ...kids) => el.replaceChildren(...kids.flat(Infinity).filter((k) => k !== null && k !== undefined));
  function changed(key, value) {
    const s = JSON.stringify(value);
    if (last[key] === s) return false;
    last[key] = s;
    return true;
  }

  function status(text, error) {
    $('status').textContent = text;
    $('status').className = error ? 'error' : 'muted';
  }

  async function api(method, path, query = {}, body) {
    const q = new URLSearchParams();
    if (session) q.set('session', session);
    for (const [k, v] of Object.entries(query)) if (v !== '' && v !== undefined && v !== null) q.set(k, String(v));
    const headers = {};
    if (token) headers.authorization = 'Bearer ' + token;
    if (body !== undefined) headers['content-type'] = 'application/json';
    const qs = q.toString();
    const res = await fetch(API + path + (qs ? '?' + qs : ''), {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => null);
    if (res.status === 401) {
      askToken(token ? 'That token was refused.' : 'This emulator needs its control token (--control-token).');
      throw new Error('401 Unauthorized: enter the control token');
    }
    if (!res.ok) throw new Error(`${res.status}: ${(data && data.message) || res.statusText}`);
    return data;
  }

  function askToken(message) {
    blocked = true;
    $('token-form').hidden = false;
    $('token-msg').textContent = message;
    $('token').focus();
  }

  // ---- formatting of bodies ----
  function indentXml(xml) {
    const toks = xml.match(/<!\[CDATA\[[\s\S]*?\]\]>|<!--[\s\S]*?-->|<[^>]+>|[^<]+/g) || [];
    const out = [];
    let depth = 0;
    for (let i = 0; i < toks.length; i++) {
      const t = toks[i];
      if (!t.trim()) continue;
      const pad = '  '.repeat(depth);
      if (t.startsWith('</')) {
        depth = Math.max(0, depth - 1);
        out.push('  '.repeat(depth) + t);
        continue;
      }
      if (!t.startsWith('<') || /^<[?!]/.test(t) || t.endsWith('/>')) {
        out.push(pad + t.trim());
        continue;
      }
      const next = toks[i + 1] || '';
      if (next.startsWith('</')) {
        out.push(pad + t + next);
        i += 1;
      } else if (!next.startsWith('<') && (toks[i + 2] || '').startsWith('</')) {
        out.push(pad + t + next + toks[i + 2]);
        i += 2;
      } else {
        out.push(pad + t);
        depth++;
      }
    }
    return out.join('\n');
  }
  function pretty(text) {
    if (text === null || text === undefined || text === '') return '(none)';
    const t = text.trim();
    if (/^[[{"]/.test(t)) {
      try {
        return JSON.stringify(JSON.parse(t), null, 2);
      } catch {
        /* not JSON */
      }
    }
    if (t.startsWith('<')) return indentXml(t);
    if (/^[^=&\s]+=[^&\s]*(&[^=&\s]+=[^&\s]*)*$/.test(t)) {
      try {
        return [...new URLSearchParams(t)].map(([k, v]) => `${k} = ${v}`).join('\n');
      } catch {
        /* as is */
      }
    }
    return text;
  }
  const headerText = (hs) =>
    Object.entries(hs || {})
      .map(([k, v]) => `${k}: ${Array.isArray(v) ? v.join(', ') : v}`)
      .join('\n');
  const clock = (iso) => (iso || '').replace(/^.*T/, '').replace(/Z$/, '');

  // ---- sections ----
  function baseUrl() {
    return location.origin + (session ? '/_sessions/' + encodeURIComponent(session) : '');
  }

  function renderVendors() {
    fill(
      $('vendors'),
      vendors.map((v) =>
        h(
          'div',
          { class: 'card', 'data-vendor': v.name },
          h('h3', {}, v.title, ' ', h('small', {}, v.name)),
          h(
            'ul',
            { class: 'plain' },
            v.basePaths.map((p) => h('li', {}, h('code', {}, baseUrl() + p))),
          ),
          v.sandbox.length
            ? h(
                'dl',
                {},
                v.sandbox.map((c) => [h('dt', {}, c.label), h('dd', {}, h('code', {}, c.value))]),
              )
            : null,
          v.faultPresets.length ? h('p', { class: 'muted' }, 'fault presets: ' + v.faultPresets.join(', ')) : null,
        ),
      ),
    );
  }

  function renderSessions(list) {
    const ids = list.sessions.map((s) => s.id);
    if (session && !ids.includes(session)) ids.unshift(session);
    if (!changed('sessions', [ids, session, list.sessions.map((s) => s.requests)])) return;
    const counts = Object.fromEntries(list.sessions.map((s) => [s.id, s.requests]));
    fill(
      $('session'),
      h('option', { value: '' }, 'default state'),
      ids.map((id) => h('option', { value: id }, counts[id] === undefined ? id : `${id} (${counts[id]} req)`)),
    );
    $('session').value = session;
    const f = $('f-session').value;
    fill(
      $('f-session'),
      h('option', { value: '' }, 'picked session'),
      h('option', { value: '*' }, 'all sessions'),
      h('option', { value: 'default' }, 'default state'),
      list.sessions.map((s) => h('option', { value: s.id }, s.id)),
    );
    $('f-session').value = [...$('f-session').options].some((o) => o.value === f) ? f : '';
  }

  const keyOf = (e) => `${e.session ?? ''}#${e.seq}`;

  function renderJournal(list) {
    entries = list.requests;
    $('journal-count').textContent = `${list.count} shown`;
    const ops = [...new Set(entries.map((e) => e.operation).filter(Boolean))].sort();
    if (changed('ops', ops))
      fill(
        $('operations'),
        ops.map((o) => h('option', { value: o })),
      );
    if (!changed('journal', [entries.map(keyOf), selected])) return;
    fill(
      $('journal').tBodies[0],
      entries.map((e) =>
        h(
          'tr',
          {
            class:
              (keyOf(e) === selected ? 'selected ' : '') + (e.status === null ? 'err' : e.status >= 400 ? 'err' : ''),
            'data-seq': e.seq,
            onclick: () => {
              selected = keyOf(e);
              last.journal = null;
              renderJournal(list);
            },
          },
          h('td', {}, e.seq),
          h('td', { title: e.time }, clock(e.time)),
          h('td', {}, e.session ?? 'default'),
          h('td', {}, e.vendor),
          h('td', {}, e.operation ?? ''),
          h('td', {}, e.method),
          h('td', { class: 'url', title: e.url }, e.url),
          h('td', { class: 'status' }, e.dropped ? 'dropped' : (e.status ?? '')),
          h('td', {}, e.durationMs),
          h('td', {}, e.fault ?? ''),
        ),
      ),
    );
    const e = entries.find((x) => keyOf(x) === selected);
    if (!e) {
      fill($('detail'), h('p', { class: 'muted' }, 'Click a request to see its bodies.'));
      return;
    }
    const pre = (title, text, truncated) => [h('h4', {}, title, truncated ? ' (truncated)' : ''), h('pre', {}, text)];
    fill(
      $('detail'),
      h('h3', {}, `${e.method} ${e.url} → ${e.dropped ? 'dropped' : e.status}`),
      h(
        'p',
        { class: 'muted' },
        `${e.time} · ${e.vendor} ${e.operation ?? ''} · session ${e.session ?? 'default'}` +
          (e.fault ? ` · fault rule ${e.fault}` : '') +
          (e.credentials.length ? ` · credentials: ${e.credentials.join(', ')}` : ''),
      ),
      h('div', { id: 'request-body' }, pre('Request body', pretty(e.body), e.bodyTruncated)),
      h('div', { id: 'response-body' }, pre('Response body', pretty(e.responseBody), e.responseBodyTruncated)),
      pre('Request headers', headerText(e.headers)),
      pre('Response headers', headerText(e.responseHeaders)),
    );
  }

  function describeFault(f) {
    const match = [f.vendor, f.operation, f.method, f.path].filter(Boolean).join(' ') || 'every vendor request';
    const answer =
      f.kind === 'status'
        ? `status ${f.status}${f.body !== undefined ? ' ' + JSON.stringify(f.body) : ''}`
        : f.kind === 'preset'
          ? `preset ${f.preset}${f.message ? ` "${f.message}"` : ''}`
          : f.kind === 'delay'
            ? `delay ${f.delayMs} ms`
            : 'drop';
    const when =
      [
        f.skip ? `skip ${f.skip}` : '',
        f.times ? `${f.times}×` : 'always',
        f.probability !== undefined ? `p=${f.probability} seed ${f.seed}` : '',
      ]
        .filter(Boolean)
        .join(', ') + (f.exhausted ? ' (exhausted)' : '');
    return [match, answer, when];
  }

  function renderFaults(list) {
    if (!changed('faults', list.faults)) return;
    fill(
      $('faults').tBodies[0],
      list.faults.length
        ? list.faults.map((f) =>
            h(
              'tr',
              { 'data-id': f.id },
              h('td', {}, f.id),
              describeFault(f).map((t) => h('td', {}, t)),
              h('td', {}, f.matched),
              h('td', { class: 'fired' }, f.fired),
              h(
                'td',
                {},
                h(
                  'button',
                  {
                    type: 'button',
                    onclick: () => act(`removed fault ${f.id}`, () => api('DELETE', `/faults/${f.id}`)),
                  },
                  'remove',
                ),
              ),
            ),
          )
        : h('tr', {}, h('td', { colspan: 7, class: 'muted' }, 'No fault rules in this session.')),
    );
  }

  function renderCoverage(r) {
    if (!changed('coverage', r.vendors)) return;
    const few = (list) =>
      list.length > 8 ? list.slice(0, 8).join(', ') + ` ... (${list.length})` : list.join(', ') || '-';
    fill(
      $('coverage').tBodies[0],
      r.vendors.map((v) =>
        h(
          'tr',
          { 'data-vendor': v.vendor },
          h('td', {}, v.vendor),
          h('td', {}, `${v.summary.operationsExercised}/${v.summary.operations}`),
          h('td', { class: 'seen' }, `${v.summary.outcomesSeen}/${v.summary.outcomes}`),
          h('td', {}, few(v.neverExercised)),
          h('td', {}, few(v.outcomesNeverSeen)),
        ),
      ),
    );
    const q = session ? `&session=${encodeURIComponent(session)}` : '';
    $('coverage-md').href = `${API}/coverage?format=markdown${q}`;
    $('coverage-junit').href = `${API}/coverage?format=junit${q}`;
  }

  function renderDrift(d) {
    if (!changed('drift', d)) return;
    const rows = [];
    for (const v of d.vendors) {
      for (const e of v.errors)
        rows.push(
          h(
            'tr',
            {},
            h('td', {}, v.vendor),
            h('td', {}, '(upstream)'),
            h('td', {}, e.error),
            h('td', {}, e.count),
            h('td', {}, e.firstSeen),
          ),
        );
      for (const o of v.operations)
        for (const x of o.differences)
          rows.push(
            h(
              'tr',
              {},
              h('td', {}, v.vendor),
              h('td', {}, o.operation),
              h('td', {}, x.difference),
              h('td', {}, x.count),
              h('td', {}, x.firstSeen),
            ),
          );
    }
    const none = d.upstreams.length ? 'No drift recorded.' : 'No --upstream configured: shadow mode is off.';
    fill($('drift').tBodies[0], rows.length ? rows : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, none)));
  }

  function renderSnapshots(list) {
    if (!changed('snapshots', list.snapshots)) return;
    fill(
      $('snapshots').tBodies[0],
      list.snapshots.length
        ? list.snapshots.map((s) =>
            h(
              'tr',
              {},
              h('td', {}, s.name),
              h('td', {}, s.session ?? 'default'),
              h('td', { title: s.createdAt }, clock(s.createdAt)),
              h('td', {}, s.bytes),
              h(
                'td',
                {},
                h(
                  'button',
                  {
                    type: 'button',
                    onclick: () =>
                      act(`restored ${s.name}`, () => api('POST', `/snapshots/${encodeURIComponent(s.name)}/restore`)),
                  },
                  'restore',
                ),
                ' ',
                h(
                  'button',
                  { type: 'button', onclick: () => act(`exported ${s.name}`, () => exportFixtures(s.name)) },
                  'fixtures',
                ),
                ' ',
                h(
                  'button',
                  {
                    type: 'button',
                    onclick: () =>
                      act(`deleted ${s.name}`, () => api('DELETE', `/snapshots/${encodeURIComponent(s.name)}`)),
                  },
                  'delete',
                ),
              ),
            ),
          )
        : h('tr', {}, h('td', { colspan: 5, class: 'muted' }, 'No snapshots yet.')),
    );
  }

  async function exportFixtures(name) {
    const data = await api('GET', `/snapshots/${encodeURIComponent(name)}/fixtures`);
    const a = h('a', {
      href: URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' })),
      download: `${name}-fixtures.json`,
    });
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  }

  function renderTables(counts) {
    const sel = $('data-table');
    const keys = Object.entries(counts.vendors).flatMap(([v, ts]) => Object.keys(ts).map((t) => `${v}/${t}`));
    if (changed('tables', keys)) {
      const cur = sel.value;
      fill(
        sel,
        Object.entries(counts.vendors).map(([v, ts]) =>
          h(
            'optgroup',
            { label: v },
            Object.keys(ts).map((t) => h('option', { value: `${v}/${t}` }, t)),
          ),
        ),
      );
      if (keys.includes(cur)) sel.value = cur;
    }
    for (const o of sel.options) {
      const [v, t] = o.value.split('/');
      o.textContent = `${t} (${counts.vendors[v][t]})`;
    }
  }

  function cell(v) {
    if (v === null) return h('td', { class: 'muted' }, 'null');
    const s = typeof v === 'object' ? JSON.stringify(v) : String(v);
    return h('td', s.length > 60 ? { title: s } : {}, s.length > 60 ? s.slice(0, 57) + '…' : s);
  }

  function renderData(d) {
    if (!changed('data', d)) return;
    $('data-info').textContent = d.total
      ? `rows ${d.offset + 1}–${d.offset + d.rows.length} of ${d.total}`
      : 'empty table';
    $('data-prev').disabled = d.offset === 0;
    $('data-next').disabled = d.offset + d.rows.length >= d.total;
    fill(
      $('data').tHead,
      h(
        'tr',
        {},
        d.columns.map((c) => h('th', {}, c)),
      ),
    );
    fill(
      $('data').tBodies[0],
      d.rows.map((r) =>
        h(
          'tr',
          {},
          d.columns.map((c) => cell(r[c])),
        ),
      ),
    );
  }

  // ---- refresh loop and actions ----
  let busy = null;
  async function refresh() {
    if (blocked) return;
    if (busy) return busy;
    busy = (async () => {
      try {
        const f = {
          vendor: $('f-vendor').value,
          operation: $('f-operation').value.trim(),
          status: $('f-status').value.trim(),
          limit: 200,
        };
        if ($('f-session').value) f.session = $('f-session').value;
        if (!vendors.length) {
          vendors = (await api('GET', '/vendors')).vendors;
          setupVendors();
        }
        const [ss, journal, faults, snaps, counts, coverage, drift] = await Promise.all([
          api('GET', '/sessions'),
          api('GET', '/requests', f),
          api('GET', '/faults'),
          api('GET', '/snapshots'),
          api('GET', '/data'),
          api('GET', '/coverage'),
          api('GET', '/drift'),
        ]);
        renderSessions(ss);
        renderJournal(journal);
        renderFaults(faults);
        renderSnapshots(snaps);
        renderTables(counts);
        renderCoverage(coverage);
        renderDrift(drift);
        if ($('data-table').value) {
          const [v, t] = $('data-table').value.split('/');
          renderData(await api('GET', `/data/${v}/${t}`, { limit: LIMIT, offset: dataOffset }));
        }
        status('updated ' + new Date().toLocaleTimeString());
      } catch (err) {
        status(err.message, true);
      } finally {
        busy = null;
      }
    })();
    return busy;
  }

  async function act(what, fn) {
    try {
      await fn();
      await refresh();
      status(what);
    } catch (err) {
      status(err.message, true);
    }
  }

  function setupVendors() {
    renderVendors();
    for (const id of ['f-vendor', 'fault-vendor'])
      fill(
        $(id),
        h('option', { value: '' }, 'any'),
        vendors.map((v) => h('option', { value: v.name }, v.name)),
      );
    fill(
      $('reset-vendor'),
      vendors.map((v) => h('option', { value: v.name }, v.name)),
    );
    updatePresets();
  }

  function updatePresets() {
    const v = vendors.find((x) => x.name === $('fault-vendor').value);
    fill(
      $('fault-preset'),
      v ? v.faultPresets.map((p) => h('option', { value: p }, p)) : h('option', { value: '' }, 'pick a vendor first'),
    );
  }
  function updateKind() {
    for (const el of document.querySelectorAll('[data-kind]')) el.hidden = el.dataset.kind !== $('fault-kind').value;
  }

  function pickSession(id) {
    session = id;
    store.setItem('emu.session', id);
    selected = null;
    dataOffset = 0;
    for (const k of Object.keys(last)) delete last[k];
    renderVendors();
    refresh();
  }

  function faultRule() {
    const r = {};
    const val = (id) => $(id).value.trim();
    const num = (id) => (val(id) === '' ? undefined : Number(val(id)));
    for (const [k, id] of [
      ['vendor', 'fault-vendor'],
      ['operation', 'fault-operation'],
      ['path', 'fault-path'],
    ])
      if (val(id)) r[k] = val(id);
    const kind = $('fault-kind').value;
    if (kind === 'status') {
      r.status = num('fault-status');
      const body = $('fault-body').value;
      if (body.trim() !== '') {
        try {
          r.body = JSON.parse(body);
        } catch {
          r.body = body;
        }
      }
    } else if (kind === 'preset') {
      r.preset = val('fault-preset');
      if (val('fault-message')) r.message = val('fault-message');
    } else if (kind === 'delay') r.delayMs = num('fault-delay');
    else r.drop = true;
    for (const [k, id] of [
      ['times', 'fault-times'],
      ['skip', 'fault-skip'],
      ['probability', 'fault-probability'],
    ])
      if (num(id) !== undefined) r[k] = num(id);
    return r;
  }

  function init() {
    $('token').value = token;
    $('token-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      token = $('token').value.trim();
      if (token) store.setItem('emu.token', token);
      else store.removeItem('emu.token');
      blocked = false;
      $('token-form').hidden = true;
      refresh();
    });
    $('token-toggle').addEventListener('click', () => {
      $('token-form').hidden = !$('token-form').hidden;
    });
    $('session').addEventListener('change', () => pickSession($('session').value));
    $('session-join').addEventListener('change', () => {
      const id = $('session-join').value.trim();
      if ($('session-join').checkValidity() && id) {
        $('session-join').value = '';
        pickSession(id === 'default' ? '' : id);
      }
    });
    $('refresh').addEventListener('click', () => refresh());
    for (const id of ['f-vendor', 'f-session', 'f-operation', 'f-status'])
      $(id).addEventListener('change', () => refresh());
    $('journal-clear').addEventListener('click', () =>
      act('journal cleared', () => api('DELETE', '/requests', $('f-session').value === '*' ? { session: '*' } : {})),
    );
    $('fault-vendor').addEventListener('change', updatePresets);
    $('fault-kind').addEventListener('change', updateKind);
    $('fault-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      act('fault added', () => api('POST', '/faults', {}, faultRule()));
    });
    $('faults-clear').addEventListener('click', () => act('faults removed', () => api('DELETE', '/faults')));
    $('reset-all').addEventListener('click', () => act('reset done', () => api('POST', '/reset')));
    $('reset-vendor-button').addEventListener('click', () =>
      act(`${$('reset-vendor').value} reset`, () => api('POST', '/reset', { vendor: $('reset-vendor').value })),
    );
    $('snapshot-form').addEventListener('submit', (ev) => {
      ev.preventDefault();
      act('snapshot saved', () => api('POST', `/snapshots/${encodeURIComponent($('snapshot-name').value.trim())}`));
    });
    $('data-table').addEventListener('change', () => {
      dataOffset = 0;
      refresh();
    });
    $('data-prev').addEventListener('click', () => {
      dataOffset = Math.max(0, dataOffset - LIMIT);
      refresh();
    });
    $('data-next').addEventListener('click', () => {
      dataOffset += LIMIT;
      refresh();
    });
    updateKind();
    refresh();
    const tick = () => {
      if ($('auto').checked && !document.hidden) refresh();
      setTimeout(tick, 1500);
    };
    setTimeout(tick, 1500);
  }

  init();
})();
