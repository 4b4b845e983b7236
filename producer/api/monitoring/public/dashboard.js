// The Photons page's script: polls /dashboard/api/fleet, keeps the history in the page (nothing is
// stored server-side) and draws it as inline SVG. Text goes in through textContent only: function
// names and hosts come from Redis.
'use strict';
(() => {
  const POLL_MS = 1500;
  /** Samples kept per chart: five minutes at one poll every 1.5 s. */
  const HISTORY = 200;
  const COLORS = ['#5b4bdb', '#12b76a', '#f79009', '#0ba5ec', '#ee46bc', '#667085', '#b42318', '#7a5af8'];
  const history = []; // { at, byFn: { fn: { jobsPerSec, photons, coldStarts, savedMb } } }
  const colorOf = new Map();
  let previous; // the last fleet reading, for rates between two polls
  let showAll = false; // idle functions come folded unless the reader asks for them

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (key === 'class') node.className = value;
      else node.setAttribute(key, value);
    }
    for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    return node;
  }
  const svgEl = (tag, attrs) => {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, value);
    return node;
  };
  const mb = (bytes) => (bytes > 0 ? `${(bytes / 2 ** 20).toFixed(1)} MB` : '–');
  const kb = (bytes) => (bytes > 0 ? `${(bytes / 1024).toFixed(1)} KB` : '–');
  const color = (fn) => {
    if (!colorOf.has(fn)) colorOf.set(fn, COLORS[colorOf.size % COLORS.length]);
    return colorOf.get(fn);
  };

  /** The formula the page explains; undefined until both heaps are measured. */
  function savedBytes(f) {
    if (!(f.runtimeBaseHeap > 0 && f.heapPerPhoton > 0)) return undefined;
    return f.photonsInFlight * f.runtimeBaseHeap - f.photonsInFlight * f.heapPerPhoton;
  }

  /** Jobs per second between this poll and the last from the answered counters; else the fleet's minute average. */
  function throughput(f, fleet) {
    const before = previous && previous.functions.find((p) => p.fn === f.fn);
    const seconds = previous ? (fleet.at - previous.at) / 1000 : 0;
    const answered = f.photonsCompleted + f.photonsFailed;
    const answeredBefore = before ? before.photonsCompleted + before.photonsFailed : undefined;
    if (seconds > 0 && answeredBefore !== undefined && answered >= answeredBefore) return (answered - answeredBefore) / seconds;
    return f.jobsPerSec;
  }

  function record(fleet) {
    const byFn = {};
    for (const f of fleet.functions) {
      const saved = savedBytes(f);
      byFn[f.fn] = {
        jobsPerSec: throughput(f, fleet),
        photons: f.photonsInFlight,
        coldStarts: f.coldStarts,
        savedMb: saved === undefined ? 0 : saved / 2 ** 20,
      };
    }
    history.push({ at: fleet.at, byFn });
    if (history.length > HISTORY) history.shift();
  }

  /** A line per function over the kept history, with the y scale from 0 to the largest value. */
  function drawChart(svg, field) {
    const width = svg.clientWidth || 400;
    const height = svg.clientHeight || 150;
    const pad = { left: 44, right: 8, top: 8, bottom: 18 };
    svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
    svg.replaceChildren();
    const fns = [...new Set(history.flatMap((h) => Object.keys(h.byFn)))];
    // At least 1: an idle fleet draws flat lines on a readable scale, not on one of 1e-9.
    const top = niceCeil(Math.max(1, ...history.flatMap((h) => fns.map((fn) => (h.byFn[fn] ? h.byFn[fn][field] : 0)))));
    const format = (v) => v.toFixed(top < 10 ? 1 : 0);
    const first = history.length > 0 ? history[0].at : Date.now();
    const last = history.length > 0 ? history[history.length - 1].at : first + 1;
    const span = Math.max(1, last - first);
    const x = (at) => pad.left + ((at - first) / span) * (width - pad.left - pad.right);
    const y = (v) => height - pad.bottom - (v / top) * (height - pad.top - pad.bottom);
    for (const fraction of [0, 0.5, 1]) {
      const v = top * fraction;
      svg.append(svgEl('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), stroke: '#e4e7ec' }));
      const label = svgEl('text', { x: pad.left - 4, y: y(v) + 3, 'text-anchor': 'end' });
      label.textContent = format(v);
      svg.append(label);
    }
    const ago = svgEl('text', { x: pad.left, y: height - 4 });
    ago.textContent = `${Math.round(span / 1000)} s ago`;
    const now = svgEl('text', { x: width - pad.right, y: height - 4, 'text-anchor': 'end' });
    now.textContent = 'now';
    svg.append(ago, now);
    for (const fn of fns) {
      const points = history.filter((h) => h.byFn[fn]).map((h) => `${x(h.at).toFixed(1)},${y(h.byFn[fn][field]).toFixed(1)}`);
      if (points.length === 1) points.push(points[0]);
      svg.append(svgEl('polyline', { points: points.join(' '), fill: 'none', stroke: color(fn), 'stroke-width': 2, 'data-fn': fn }));
    }
  }

  function niceCeil(value) {
    const power = 10 ** Math.floor(Math.log10(value));
    for (const step of [1, 2, 5, 10]) if (value <= step * power) return step * power;
    return 10 * power;
  }

  function renderTotals(fleet) {
    const sum = (pick) => fleet.functions.reduce((total, f) => total + pick(f), 0);
    const saved = fleet.functions.map(savedBytes).filter((s) => s !== undefined);
    const latest = history[history.length - 1];
    const rate = latest ? Object.values(latest.byFn).reduce((total, v) => total + v.jobsPerSec, 0) : 0;
    const totals = [
      ['Functions', fleet.functions.length + fleet.folded.length],
      ['Dispatchers', fleet.dispatchers.filter((d) => !d.stale).length],
      ['Runtimes', sum((f) => f.runtimes)],
      ['Photons in flight', sum((f) => f.photonsInFlight)],
      ['Jobs/s', rate.toFixed(1)],
      ['Cold starts', sum((f) => f.coldStarts)],
      ['Memory saved', saved.length > 0 ? mb(saved.reduce((a, b) => a + b, 0)) : '–'],
    ];
    document
      .getElementById('totals')
      .replaceChildren(
        ...totals.map(([label, value]) =>
          el('div', { class: 'total', 'data-total': label }, el('div', { class: 'label' }, label), el('div', { class: 'value' }, value)),
        ),
      );
  }

  function renderFunctions(fleet) {
    const sections = fleet.functions.map((f) => {
      const maxHeap = Math.max(1, ...f.heapPerRuntime);
      const runtimes = f.photonsPerRuntime.map((photons, i) =>
        el(
          'div',
          { class: 'runtime', 'data-runtime': i + 1 },
          el('div', { class: 'name' }, `runtime ${i + 1}`),
          el('div', { class: 'photons' }, `${photons} photon${photons === 1 ? '' : 's'}`),
          el('div', {}, `heap ${mb(f.heapPerRuntime[i])}`),
          el('div', { class: 'bar' }, el('span', { style: `width:${((100 * f.heapPerRuntime[i]) / maxHeap).toFixed(0)}%` })),
        ),
      );
      const saved = savedBytes(f);
      const fact = (label, value, field) => el('span', { 'data-field': field }, `${label} `, el('b', {}, value));
      return el(
        'section',
        { class: 'fn', 'data-fn': f.fn },
        el('h3', {}, el('i', { style: `color:${color(f.fn)}` }, '■ '), f.fn, f.error ? el('span', { class: 'broken' }, ` does not load: ${f.error}`) : ''),
        el(
          'div',
          { class: 'facts' },
          fact('runtimes', f.runtimes, 'runtimes'),
          fact('photons in flight', f.photonsInFlight, 'photons'),
          fact('waiting', f.waiting, 'waiting'),
          fact('active', f.active, 'active'),
          fact('delayed', f.delayed, 'delayed'),
          fact('completed', f.completed, 'completed'),
          fact('failed', f.failed, 'failed'),
          fact('cold starts', f.coldStarts, 'coldStarts'),
          fact('runtime deaths', f.runtimeDeaths, 'runtimeDeaths'),
          fact('runtime base heap', mb(f.runtimeBaseHeap), 'runtimeBaseHeap'),
          fact('heap per photon', kb(f.heapPerPhoton), 'heapPerPhoton'),
          fact('memory saved', saved === undefined ? '–' : mb(saved), 'saved'),
        ),
        el('div', { class: 'runtimes' }, ...runtimes),
      );
    });
    const container = document.getElementById('functions');
    const empty = sections.length === 0 && fleet.folded.length === 0;
    container.replaceChildren(...(empty ? [el('p', {}, 'No functions yet: no dispatcher has registered any.')] : sections));
    const fold = document.getElementById('fold');
    const toggle = el('button', { type: 'button', id: 'fold-toggle' }, showAll ? 'Fold the idle functions' : 'Show them');
    toggle.addEventListener('click', () => {
      showAll = !showAll;
      toggle.disabled = true;
      poll(false);
    });
    if (fleet.folded.length > 0) {
      fold.replaceChildren(
        el(
          'span',
          { 'data-folded': fleet.folded.length },
          `… and ${fleet.folded.length.toLocaleString('en-US')} idle functions (no jobs queued or running, no runtime) `,
        ),
        toggle,
      );
    } else fold.replaceChildren(...(showAll ? [toggle] : []));
  }

  /** Used/budget MB; the functions whose jobs wait in Redis for the budget are named. */
  function memoryText(memory) {
    if (!memory) return '–';
    const line = `${memory.usedMb} / ${memory.budgetMb} MB`;
    return memory.limited.length > 0 ? `${line} (limited: ${memory.limited.join(', ')})` : line;
  }

  function renderDispatchers(fleet) {
    const rows = fleet.dispatchers.map((d) =>
      el(
        'tr',
        { 'data-dispatcher': d.id },
        ...[d.id, d.host, d.pid, d.version, d.mode].map((v) => el('td', {}, v)),
        el('td', d.memory && d.memory.limited.length > 0 ? { class: 'limited' } : {}, memoryText(d.memory)),
        el('td', d.stale ? { class: 'stale' } : {}, `${(d.heartbeatAgeMs / 1000).toFixed(1)} s ago${d.stale ? ' (stale)' : ''}`),
      ),
    );
    document
      .querySelector('#dispatchers tbody')
      .replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 7 }, 'No dispatcher is running.'))]));
  }

  /** The newest map runs, each linking its picture (timeline and histogram, drawn by the API). */
  async function renderRuns() {
    const response = await fetch('/dashboard/api/runs', { headers: { accept: 'application/json' } });
    if (!response.ok) return;
    const { runs } = await response.json();
    const rows = runs.map((r) =>
      el(
        'tr',
        { 'data-run': r.runId },
        el('td', {}, r.runId.slice(0, 8)),
        el('td', {}, r.reduce ? `${r.fn} → ${r.reduce}` : r.fn),
        el('td', {}, r.state),
        el('td', {}, `${r.done}/${r.total ?? '?'}`),
        el('td', {}, r.failed),
        el('td', {}, new Date(r.createdAt).toLocaleTimeString()),
        el('td', {}, el('a', { href: r.picture, class: 'run-picture', target: '_blank', rel: 'noopener' }, 'timeline')),
      ),
    );
    document.querySelector('#runs tbody').replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 7 }, 'No map run yet.'))]));
  }

  function renderSchedules(fleet) {
    const when = (at) => (at === null ? '-' : new Date(at).toLocaleString());
    const rows = fleet.schedules.map((s) =>
      el(
        'tr',
        { 'data-schedule': s.id },
        el('td', {}, s.id),
        el('td', {}, s.fn),
        el('td', {}, s.every !== undefined ? `every ${s.every} ms` : `cron ${s.cron}${s.tz ? ` (${s.tz})` : ''}`),
        el('td', {}, s.paused ? 'paused' : when(s.nextRunAt)),
        el('td', {}, when(s.lastRunAt)),
        el('td', {}, String(s.runs)),
      ),
    );
    document.querySelector('#schedules tbody').replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 6 }, 'No schedules.'))]));
  }

  function renderLimits(fleet) {
    const rows = fleet.limits.map((l) => {
      const reasons = [
        ...(l.rateLimitedForMs > 0 ? [`rate-limited for ${(l.rateLimitedForMs / 1000).toFixed(1)} s`] : []),
        ...(l.atMaxConcurrency ? ['at maxConcurrency'] : []),
      ];
      return el(
        'tr',
        { 'data-limits': l.fn },
        el('td', {}, l.fn),
        el('td', {}, l.rateLimit ? `${l.rateLimit.max} per ${l.rateLimit.durationMs} ms` : '-'),
        el('td', {}, l.maxConcurrency === null ? '-' : `${l.active} of ${l.maxConcurrency}`),
        el('td', reasons.length > 0 ? { class: 'stale' } : {}, reasons.length > 0 ? `limited: ${reasons.join(', ')}` : 'not limited'),
      );
    });
    document
      .querySelector('#limits tbody')
      .replaceChildren(...(rows.length > 0 ? rows : [el('tr', {}, el('td', { colspan: 4 }, 'No function sets rateLimit or maxConcurrency.'))]));
  }

  function renderCharts(fleet) {
    drawChart(document.getElementById('chart-throughput'), 'jobsPerSec');
    drawChart(document.getElementById('chart-photons'), 'photons');
    drawChart(document.getElementById('chart-cold-starts'), 'coldStarts');
    drawChart(document.getElementById('chart-saved'), 'savedMb');
    document.getElementById('legend').replaceChildren(...fleet.functions.map((f) => el('span', {}, el('i', { style: `background:${color(f.fn)}` }), f.fn)));
  }

  function renderAccess(fleet) {
    const { tokenRequired, signedIn } = fleet.access;
    document.getElementById('logout').hidden = !(tokenRequired && signedIn);
    document.getElementById('full-board-link').textContent = tokenRequired && !signedIn ? 'Sign in for actions' : 'Queues with actions';
  }

  /** `again`: schedule the next poll (false for an extra one, after the reader unfolds or folds). */
  async function poll(again = true) {
    const status = document.getElementById('status');
    try {
      const response = await fetch(`/dashboard/api/fleet${showAll ? '?all=1' : ''}`, { headers: { accept: 'application/json' } });
      const body = await response.json();
      if (!response.ok) throw new Error(body.error ? body.error.message : `HTTP ${response.status}`);
      record(body);
      previous = body;
      renderTotals(body);
      renderFunctions(body);
      renderDispatchers(body);
      renderSchedules(body);
      renderLimits(body);
      renderCharts(body);
      renderAccess(body);
      await renderRuns().catch(() => undefined);
      status.className = 'status';
      const { tokenRequired, signedIn } = body.access;
      const mode = !tokenRequired ? 'no api.token: open to all' : signedIn ? 'signed in' : 'read-only';
      status.textContent = `Updated ${new Date(body.at).toLocaleTimeString()} · ${mode}`;
    } catch (err) {
      status.className = 'status error';
      status.textContent = `Cannot read the fleet: ${err.message}`;
    } finally {
      if (again) setTimeout(poll, POLL_MS);
    }
  }

  poll();
})();
