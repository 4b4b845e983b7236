// Line charts as SVG text, for RESULTS.md: memory per invocation and latency against concurrency,
// one line per mode (the shape of the paper's Figures 4 and 8). No chart library needed.

export interface Series {
  name: string;
  points: Array<[number, number]>;
}

export interface LineChart {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Log scales suit concurrency 1–64 and values spanning orders of magnitude. */
  xLog?: boolean;
  yLog?: boolean;
  series: Series[];
}

const WIDTH = 560;
const HEIGHT = 360;
const MARGIN = { left: 70, right: 150, top: 40, bottom: 50 };
const COLOURS = ['#d62728', '#1f77b4', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

export function lineChart(chart: LineChart): string {
  const all = chart.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y) && (!chart.yLog || y > 0));
  const xs = all.map(([x]) => x);
  const ys = all.map(([, y]) => y);
  const x = scale(Math.min(...xs), Math.max(...xs), MARGIN.left, WIDTH - MARGIN.right, chart.xLog);
  const yMin = chart.yLog ? Math.min(...ys) : 0;
  const y = scale(yMin, Math.max(...ys), HEIGHT - MARGIN.bottom, MARGIN.top, chart.yLog);
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${WIDTH / 2 - MARGIN.right / 2}" y="22" text-anchor="middle" font-size="14" font-weight="bold">${escape(chart.title)}</text>`,
  ];
  for (const tick of ticks(Math.min(...xs), Math.max(...xs), chart.xLog)) {
    parts.push(
      `<line x1="${x(tick)}" y1="${HEIGHT - MARGIN.bottom}" x2="${x(tick)}" y2="${MARGIN.top}" stroke="#eee"/>`,
      `<text x="${x(tick)}" y="${HEIGHT - MARGIN.bottom + 16}" text-anchor="middle">${formatTick(tick)}</text>`,
    );
  }
  for (const tick of ticks(yMin, Math.max(...ys), chart.yLog)) {
    parts.push(
      `<line x1="${MARGIN.left}" y1="${y(tick)}" x2="${WIDTH - MARGIN.right}" y2="${y(tick)}" stroke="#eee"/>`,
      `<text x="${MARGIN.left - 6}" y="${y(tick) + 4}" text-anchor="end">${formatTick(tick)}</text>`,
    );
  }
  parts.push(
    `<line x1="${MARGIN.left}" y1="${HEIGHT - MARGIN.bottom}" x2="${WIDTH - MARGIN.right}" y2="${HEIGHT - MARGIN.bottom}" stroke="black"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${HEIGHT - MARGIN.bottom}" stroke="black"/>`,
    `<text x="${(MARGIN.left + WIDTH - MARGIN.right) / 2}" y="${HEIGHT - 12}" text-anchor="middle">${escape(chart.xLabel)}</text>`,
    `<text x="16" y="${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2}" text-anchor="middle" transform="rotate(-90 16 ${(MARGIN.top + HEIGHT - MARGIN.bottom) / 2})">${escape(chart.yLabel)}</text>`,
  );
  chart.series.forEach((series, i) => {
    const colour = COLOURS[i % COLOURS.length]!;
    const points = series.points.filter(([px, py]) => Number.isFinite(px) && Number.isFinite(py) && (!chart.yLog || py > 0));
    if (points.length > 0) {
      parts.push(
        `<polyline fill="none" stroke="${colour}" stroke-width="2" points="${points.map(([px, py]) => `${x(px).toFixed(1)},${y(py).toFixed(1)}`).join(' ')}"/>`,
      );
      for (const [px, py] of points) parts.push(`<circle cx="${x(px).toFixed(1)}" cy="${y(py).toFixed(1)}" r="3" fill="${colour}"/>`);
    }
    const ly = MARGIN.top + 10 + i * 18;
    parts.push(
      `<line x1="${WIDTH - MARGIN.right + 12}" y1="${ly}" x2="${WIDTH - MARGIN.right + 32}" y2="${ly}" stroke="${colour}" stroke-width="2"/>`,
      `<text x="${WIDTH - MARGIN.right + 38}" y="${ly + 4}">${escape(series.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

function scale(min: number, max: number, from: number, to: number, log = false): (v: number) => number {
  const f = log ? Math.log10 : (v: number) => v;
  const lo = f(min);
  const span = f(max) - lo || 1;
  return (v) => from + ((f(v) - lo) / span) * (to - from);
}

/** Powers of ten (and their doubles and fives) on log scales; about five round steps on linear ones. */
function ticks(min: number, max: number, log = false): number[] {
  if (log) {
    const out: number[] = [];
    for (let p = Math.floor(Math.log10(min)); p <= Math.ceil(Math.log10(max)); p++) {
      for (const m of [1, 2, 5]) {
        const v = m * 10 ** p;
        if (v >= min * 0.999 && v <= max * 1.001) out.push(v);
      }
    }
    return out.length >= 2 ? out : [min, max];
  }
  const raw = (max - min) / 5 || 1;
  const step = [1, 2, 5, 10].map((m) => m * 10 ** Math.floor(Math.log10(raw))).find((s) => s >= raw)!;
  const out: number[] = [];
  for (let v = Math.ceil(min / step) * step; v <= max + 1e-9; v += step) out.push(Number(v.toPrecision(6)));
  return out;
}

function formatTick(value: number): string {
  if (value >= 1000) return `${value / 1000}k`;
  return Number(value.toPrecision(3)).toString();
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
