/*
 * dashboard.js — the monitor dashboard: fetches GET /ctng/v1/dashboard once
 * per period and renders it; the search box asks GET /ctng/v1/search (on
 * monitors that index certificates). Every text that comes from outside
 * (entity ids, URLs, domain names, evidence) is put in the DOM with
 * textContent, never parsed as HTML. No framework, no download.
 */
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);

  function el(tag, text, cls) {
    const e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
  }

  const SYMBOL = { attested: '✓', accused: 'A', convicted: '✗', none: '·' };

  // Status of an entity in one published period (convicted wins).
  function statusIn(id, p) {
    if (!p || !p.published) return 'none';
    if (p.convicted.includes(id)) return 'convicted';
    if (p.accused.includes(id)) return 'accused';
    if (p.attested.includes(id)) return 'attested';
    return 'none';
  }

  function utc(ms) {
    return new Date(ms).toISOString().replace('T', ' ').replace(/\.\d+Z$/, '');
  }

  function renderEntities(d) {
    const body = $('entities').tBodies[0];
    clear(body);
    const latest = d.periods.length ? d.periods[0] : null;
    $('status-period').textContent = latest ? 'in the update of period ' + latest.period : '';
    for (const e of d.entities) {
      const tr = el('tr');
      tr.dataset.entity = e.id;
      const id = el('td');
      id.appendChild(el('code', e.id));
      id.title = e.url;
      tr.appendChild(id);
      tr.appendChild(el('td', e.role));
      tr.appendChild(el('td', e.watched ? 'yes' : 'no'));
      const st = e.convicted ? 'convicted' : statusIn(e.id, latest);
      const stc = el('td');
      const badge = el('span', st + (e.forked ? ' (STH fork)' : ''), 'status ' + st);
      badge.dataset.k = 'status.' + e.id;
      stc.appendChild(badge);
      tr.appendChild(stc);
      const s = e.sth || null;
      const cells = [
        ['tree_size', s ? s.tree_size : '', 'num'],
        ['sth_period', s ? s.period : '', 'num'],
        ['sth_time', s ? utc(s.timestamp_ms) : '', ''],
        ['root', s ? s.root.slice(0, 16) + '…' : '', ''],
      ];
      for (const [k, v, cls] of cells) {
        const td = el('td', v, cls);
        td.dataset.k = 'sth.' + e.id + '.' + k;
        if (k === 'root' && s) td.title = s.root;
        tr.appendChild(td);
      }
      body.appendChild(tr);
    }
  }

  function renderTimeline(d) {
    const t = $('timeline');
    clear(t.tHead);
    clear(t.tBodies[0]);
    const periods = d.periods.slice().reverse(); // oldest first
    const head = el('tr');
    head.appendChild(el('th', 'entity \\ period'));
    for (const p of periods) head.appendChild(el('th', p.period, 'num'));
    t.tHead.appendChild(head);
    for (const e of d.entities) {
      const tr = el('tr');
      tr.appendChild(el('td', e.id));
      for (const p of periods) {
        const st = statusIn(e.id, p);
        const td = el('td');
        const c = el('span', SYMBOL[st], 'cell ' + st);
        c.title = e.id + ', period ' + p.period + ': ' + st;
        c.dataset.k = 'tl.' + e.id + '.' + p.period;
        c.dataset.status = st;
        td.appendChild(c);
        tr.appendChild(td);
      }
      t.tBodies[0].appendChild(tr);
    }
  }

  function renderPoms(d) {
    const ul = $('poms');
    clear(ul);
    $('no-poms').hidden = d.poms.length > 0;
    for (const pom of d.poms) {
      const li = el('li');
      li.dataset.k = 'pom.' + pom.entity + '.' + pom.kind;
      const det = el('details');
      const sum = el('summary');
      sum.appendChild(el('b', pom.entity));
      sum.appendChild(document.createTextNode(' — ' + pom.kind + ', period ' + pom.period));
      det.appendChild(sum);
      det.appendChild(el('pre', JSON.stringify(pom.evidence, null, 2)));
      li.appendChild(det);
      ul.appendChild(li);
    }
  }

  let refreshMs = 2000;

  function render(d) {
    $('monitor').textContent = d.monitor;
    $('period').textContent = d.period === null ? 'before genesis' : d.period;
    $('last-published').textContent = d.last_published === null ? 'none yet' : d.last_published;
    $('period-ms').textContent = d.period_ms;
    $('threshold').textContent = d.threshold;
    $('gossiper').textContent = d.gossiper;
    renderEntities(d);
    renderTimeline(d);
    renderPoms(d);
    refreshMs = Math.max(1000, Math.min(d.period_ms, 60000));
    document.body.dataset.period = d.period === null ? '' : String(d.period);
    document.body.dataset.lastPublished = d.last_published === null ? '' : String(d.last_published);
    document.body.dataset.ready = '1';
  }

  async function load() {
    try {
      const r = await fetch('/ctng/v1/dashboard?periods=16', { cache: 'no-store' });
      if (!r.ok) throw new Error('HTTP ' + r.status);
      render(await r.json());
      $('error').hidden = true;
    } catch (e) {
      $('error').textContent = 'cannot load the monitor state: ' + e.message;
      $('error').hidden = false;
    } finally {
      setTimeout(load, refreshMs);
    }
  }

  // ------------------------------------------------------------ search
  let query = null;

  // One certificate of GET /ctng/v1/search (docs/endpoints.md) as a row.
  function day(s) { return typeof s === 'string' ? s.slice(0, 10) : '?'; }

  function resultRow(r) {
    const tr = el('tr');
    tr.dataset.k = 'cert.' + r.id;
    const names = el('td', null, 'names');
    for (const n of (Array.isArray(r.names) ? r.names : []).slice(0, 20))
      names.appendChild(el('span', n, 'name'));
    if (Array.isArray(r.names) && r.names.length > 20)
      names.appendChild(el('span', '… ' + (r.names.length - 20) + ' more', 'name'));
    if (!Array.isArray(r.names) || r.names.length === 0) names.textContent = '(no DNS name)';
    tr.appendChild(names);
    tr.appendChild(el('td', r.issuer === null ? 'unknown CA' : r.issuer));
    tr.appendChild(el('td', r.rid === null ? '–' : r.rid, 'num'));
    const rev = el('td');
    rev.appendChild(r.revoked === true ? el('span', 'revoked', 'status revoked')
      : r.revoked === false ? el('span', 'not revoked', 'status valid')
      : el('span', 'unknown', 'status none'));
    tr.appendChild(rev);
    tr.appendChild(el('td', day(r.not_before) + ' → ' + day(r.not_after)));
    const logs = (Array.isArray(r.entries) ? r.entries : []).map((e) => e.logger + ' #' + e.index);
    tr.appendChild(el('td', logs.join(', ') + (r.type === 'precert' ? ' (precert)' : '')));
    const serial = el('td', typeof r.serial === 'string' && r.serial.length > 16
      ? r.serial.slice(0, 16) + '…' : r.serial, 'mono');
    serial.title = String(r.serial);
    tr.appendChild(serial);
    return tr;
  }

  async function search(after) {
    const status = $('search-status');
    const q = query;
    let url = '/ctng/v1/search?domain=' + encodeURIComponent(q.domain);
    if (q.subdomains) url += '&subdomains=1';
    if (after) url += '&after=' + encodeURIComponent(after);
    status.textContent = 'searching for “' + q.domain + '”…';
    try {
      const r = await fetch(url, { cache: 'no-store' });
      if (r.status === 404 && !after) {
        status.textContent = 'search is not available on this monitor (it does not index ' +
          'certificates); nothing found for “' + q.domain + '”';
        return;
      }
      const d = await r.json();
      if (!r.ok) throw new Error(d && d.error ? d.error : 'HTTP ' + r.status);
      const body = $('results').tBodies[0];
      for (const res of d.results || []) body.appendChild(resultRow(res));
      const n = body.rows.length;
      $('results').hidden = n === 0;
      status.textContent = n + ' certificate' + (n === 1 ? '' : 's') + ' for “' + q.domain + '”' +
        (q.subdomains ? ' and its subdomains' : '');
      const more = $('more');
      more.hidden = !d.next;
      more.dataset.next = d.next || '';
    } catch (e) {
      status.textContent = 'search failed for “' + q.domain + '”: ' + e.message;
    }
  }

  $('search').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const domain = $('domain').value.trim();
    if (!domain) return;
    query = { domain: domain, subdomains: $('subdomains').checked };
    clear($('results').tBodies[0]);
    $('results').hidden = true;
    $('more').hidden = true;
    search(null);
  });
  $('more').addEventListener('click', () => { if (query) search($('more').dataset.next); });

  load();
})();
