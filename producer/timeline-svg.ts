// The picture of a run, as Lithops' plot draws one: above, its timeline (each job's wait in the
// queue and its execution as a bar, failures marked; past MAX_BARS jobs, a density of the items
// waiting and running over time instead), below, a histogram of execution times. Plain SVG text,
// no library: it is served by the API, written by `photons map --plot` and shown by the dashboard.
import type { RunTimeline, TimelineBar } from './run-timeline';

/** Past this many jobs, bars would be thinner than a pixel: the timeline becomes a density. */
export const MAX_BARS = 1_000;
const WIDTH = 960;
const LEFT = 64;
const RIGHT = 24;
const PLOT_W = WIDTH - LEFT - RIGHT;
const TOP = 48;
const TIMELINE_H = 340;
const HIST_TOP = TOP + TIMELINE_H + 70;
const HIST_H = 170;
const HEIGHT = HIST_TOP + HIST_H + 48;
const DENSITY_BINS = 240;
const HISTOGRAM_BINS = 30;

const STYLE = `
  text { font: 12px system-ui, sans-serif; fill: #333 }
  .title { font-size: 15px; font-weight: 600 }
  .axis { stroke: #999; stroke-width: 1 }
  .wait { fill: #cfd8e3 }
  .run { fill: #3b7dd8 }
  .run.failed { fill: #d9534f }
  .failure { fill: #b52b27 }
  .density.waiting { fill: #cfd8e3; stroke: #9fb0c4 }
  .density.running { fill: #3b7dd8; fill-opacity: 0.8 }
  .bin { fill: #5a9e6f }`;

/** The run's picture as an SVG document. */
export function timelineSvg(timeline: RunTimeline): string {
  const { bars } = timeline;
  // Loops, not Math.min(...spread): a run may have a million jobs, more arguments than a call takes.
  let start = timeline.createdAt;
  for (const bar of bars) if (bar.queuedAt !== undefined) start = Math.min(start, bar.queuedAt);
  let end = start + 1;
  for (const bar of bars) if (bar.queuedAt !== undefined) end = Math.max(end, bar.finishedAt ?? timeline.readAt);
  const x = (t: number): number => LEFT + ((t - start) / (end - start)) * PLOT_W;
  const items = bars.reduce((sum, b) => sum + b.count, 0);
  const failed = bars.reduce((sum, b) => sum + b.failed, 0);
  const unit = timeline.chunkSize > 1 ? `chunks of ${timeline.chunkSize} items` : 'items';
  const dense = bars.length > MAX_BARS;
  const parts = [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" data-run="${escapeXml(timeline.runId)}" data-mode="${dense ? 'density' : 'bars'}">`,
    `<style>${STYLE}\n</style>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    `<text class="title" x="${LEFT}" y="22">Run ${escapeXml(timeline.runId)} of "${escapeXml(timeline.fn)}": ${items} items, ${failed} failed, ${seconds(end - start)}</text>`,
    `<text x="${LEFT}" y="${TOP - 8}">${dense ? `Items waiting (light) and running (dark) over time, ${bars.length} ${unit}; failures marked below the axis` : `Each of ${bars.length} ${unit}: its wait in the queue (light) and its execution (dark; red: failed)`}</text>`,
    ...(dense ? densityOf(bars, start, end) : barsOf(bars, x, timeline.readAt)),
    ...timeAxis(start, end, x),
    ...histogramOf(bars),
    `</svg>`,
  ];
  return `${parts.join('\n')}\n`;
}

function barsOf(bars: TimelineBar[], x: (t: number) => number, readAt: number): string[] {
  const rowH = TIMELINE_H / Math.max(1, bars.length);
  const h = Math.max(0.5, rowH * 0.8);
  const out: string[] = [];
  bars.forEach((bar, i) => {
    const y = num(TOP + i * rowH);
    if (bar.queuedAt === undefined) {
      out.push(`<path class="failure" data-chunk="${bar.chunk}" d="M${LEFT - 10},${y}h6v${num(h)}h-6z"><title>chunk ${bar.chunk}: gone</title></path>`);
      return;
    }
    const started = bar.startedAt ?? readAt;
    out.push(`<rect class="wait" x="${num(x(bar.queuedAt))}" y="${y}" width="${num(Math.max(0.5, x(started) - x(bar.queuedAt)))}" height="${num(h)}"/>`);
    if (bar.startedAt !== undefined) {
      const ended = bar.finishedAt ?? readAt;
      const label = `items ${bar.first}–${bar.first + bar.count - 1}: waited ${seconds(bar.startedAt - bar.queuedAt)}, ran ${seconds(ended - bar.startedAt)}${bar.failed ? `, ${bar.failed} failed` : ''}`;
      out.push(
        `<rect class="run${bar.failed ? ' failed' : ''}" data-chunk="${bar.chunk}" x="${num(x(bar.startedAt))}" y="${y}" width="${num(Math.max(0.5, x(ended) - x(bar.startedAt)))}" height="${num(h)}"><title>${label}</title></rect>`,
      );
      if (bar.failed)
        out.push(
          `<circle class="failure" data-chunk="${bar.chunk}" cx="${num(x(ended) + 4)}" cy="${num(Number(y) + h / 2)}" r="${num(Math.min(4, Math.max(1.5, h / 2)))}"/>`,
        );
    }
  });
  return out;
}

/** Items waiting and running per time bin (a difference array: linear in jobs, whatever their number). */
function densityOf(bars: TimelineBar[], start: number, end: number): string[] {
  const binOf = (t: number): number => Math.min(DENSITY_BINS - 1, Math.max(0, Math.floor(((t - start) / (end - start)) * DENSITY_BINS)));
  const waiting = new Float64Array(DENSITY_BINS + 1);
  const running = new Float64Array(DENSITY_BINS + 1);
  const failures = new Float64Array(DENSITY_BINS);
  for (const bar of bars) {
    if (bar.queuedAt === undefined) continue;
    const started = bar.startedAt ?? end;
    waiting[binOf(bar.queuedAt)]! += bar.count;
    waiting[binOf(started)]! -= bar.count;
    if (bar.startedAt !== undefined) {
      running[binOf(bar.startedAt)]! += bar.count;
      running[binOf(bar.finishedAt ?? end) + 1]! -= bar.count;
    }
    if (bar.failed) failures[binOf(bar.finishedAt ?? end)]! += bar.failed;
  }
  for (let i = 1; i <= DENSITY_BINS; i++) {
    waiting[i]! += waiting[i - 1]!;
    running[i]! += running[i - 1]!;
  }
  let peak = 1;
  for (let i = 0; i < DENSITY_BINS; i++) peak = Math.max(peak, waiting[i]! + running[i]!);
  const base = TOP + TIMELINE_H;
  const binW = PLOT_W / DENSITY_BINS;
  const yOf = (value: number): string => num(base - (value / peak) * TIMELINE_H);
  const area = (top: (i: number) => number, bottom: (i: number) => number): string => {
    let d = `M${LEFT},${yOf(bottom(0))}`;
    for (let i = 0; i < DENSITY_BINS; i++) d += `V${yOf(top(i))}H${num(LEFT + (i + 1) * binW)}`;
    for (let i = DENSITY_BINS - 1; i >= 0; i--) d += `V${yOf(bottom(i))}H${num(LEFT + i * binW)}`;
    return `${d}Z`;
  };
  const out = [
    `<path class="density waiting" d="${area(
      (i) => running[i]! + waiting[i]!,
      (i) => running[i]!,
    )}"/>`,
    `<path class="density running" d="${area(
      (i) => running[i]!,
      () => 0,
    )}"/>`,
    `<text x="${LEFT - 6}" y="${TOP + 4}" text-anchor="end">${Math.round(peak)}</text>`,
    `<line class="axis" x1="${LEFT}" y1="${TOP}" x2="${LEFT}" y2="${base}"/>`,
  ];
  failures.forEach((count, i) => {
    if (count > 0)
      out.push(
        `<rect class="failure" x="${num(LEFT + i * binW)}" y="${base + 3}" width="${num(Math.max(1, binW))}" height="6"><title>${count} failed</title></rect>`,
      );
  });
  return out;
}

function timeAxis(start: number, end: number, x: (t: number) => number): string[] {
  const base = TOP + TIMELINE_H + 12;
  const step = niceStep((end - start) / 6);
  const out = [`<line class="axis" x1="${LEFT}" y1="${base}" x2="${LEFT + PLOT_W}" y2="${base}"/>`];
  for (let t = 0; t <= end - start; t += step) {
    out.push(`<line class="axis" x1="${num(x(start + t))}" y1="${base}" x2="${num(x(start + t))}" y2="${base + 4}"/>`);
    out.push(`<text x="${num(x(start + t))}" y="${base + 17}" text-anchor="middle">${seconds(t)}</text>`);
  }
  out.push(`<text x="${LEFT + PLOT_W}" y="${base + 32}" text-anchor="end">time since the run started</text>`);
  return out;
}

function histogramOf(bars: TimelineBar[]): string[] {
  const durations = bars.flatMap((b) => (b.startedAt !== undefined && b.finishedAt !== undefined ? [b.finishedAt - b.startedAt] : []));
  let max = 1;
  for (const d of durations) max = Math.max(max, d);
  const counts = new Array<number>(HISTOGRAM_BINS).fill(0);
  for (const d of durations) counts[Math.min(HISTOGRAM_BINS - 1, Math.floor((d / max) * HISTOGRAM_BINS))]!++;
  const peak = Math.max(1, ...counts);
  const binW = PLOT_W / HISTOGRAM_BINS;
  const base = HIST_TOP + HIST_H;
  const out = [
    `<text x="${LEFT}" y="${HIST_TOP - 12}">Execution time of ${durations.length} finished jobs${durations.length < bars.length ? ` (of ${bars.length})` : ''}, count per bin</text>`,
    `<line class="axis" x1="${LEFT}" y1="${base}" x2="${LEFT + PLOT_W}" y2="${base}"/>`,
    `<text x="${LEFT - 6}" y="${HIST_TOP + 4}" text-anchor="end">${peak}</text>`,
    `<text x="${LEFT}" y="${base + 17}">0</text>`,
    `<text x="${LEFT + PLOT_W}" y="${base + 17}" text-anchor="end">${seconds(max)}</text>`,
  ];
  counts.forEach((count, i) => {
    const h = (count / peak) * HIST_H;
    out.push(
      `<rect class="bin" data-count="${count}" x="${num(LEFT + i * binW + 1)}" y="${num(base - h)}" width="${num(binW - 2)}" height="${num(h)}"><title>${count} jobs ran ${seconds((i * max) / HISTOGRAM_BINS)}–${seconds(((i + 1) * max) / HISTOGRAM_BINS)}</title></rect>`,
    );
  });
  return out;
}

function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(Math.max(raw, 1)));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}

function seconds(ms: number): string {
  return ms < 1_000 ? `${Math.round(ms)} ms` : `${(ms / 1_000).toFixed(ms < 10_000 ? 2 : 1)} s`;
}

function num(value: number): string {
  return String(Math.round(value * 100) / 100);
}

export function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => `&${{ '<': 'lt', '>': 'gt', '&': 'amp', '"': 'quot', "'": 'apos' }[c]!};`);
}
