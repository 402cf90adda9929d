// Training curves as a standalone SVG (no dependency): left panel the training loss per step
// (raw, faint) with its moving average and the validation loss; right panel the validation
// scores per snapshot (mean box IoU, box recall, pixel IoU, XNN score) on a 0..1 axis.

export interface CurvePoint {
  step: number;
  value: number;
}

export interface CurveSeries {
  label: string;
  colour: string;
  points: CurvePoint[];
  /** Faint line (raw values under a smoothed series). */
  faint?: boolean;
  /** Draw dots at the points (sparse series). */
  dots?: boolean;
}

export interface CurvePanel {
  title: string;
  series: CurveSeries[];
  /** Fixed y range; default: fitted to the data. */
  yRange?: [number, number];
  /** Where the legend goes (default top: loss curves fall away from it). */
  legendAt?: 'top' | 'bottom';
}

/** Moving average over `window` points (centred on the past: the last `window` values). */
export function movingAverage(points: CurvePoint[], window: number): CurvePoint[] {
  const out: CurvePoint[] = [];
  let sum = 0;
  for (let i = 0; i < points.length; i++) {
    sum += points[i].value;
    if (i >= window) sum -= points[i - window].value;
    out.push({ step: points[i].step, value: sum / Math.min(i + 1, window) });
  }
  return out;
}

const esc = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const fmt = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 1 ? v.toFixed(2) : v.toPrecision(2));

function panelSvg(panel: CurvePanel, x0: number, y0: number, width: number, height: number): string {
  const left = 48;
  const bottom = 28;
  const top = 24;
  const plotW = width - left - 12;
  const plotH = height - top - bottom;
  const all = panel.series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.value));
  const steps = all.map((p) => p.step);
  const sMin = Math.min(0, ...steps);
  const sMax = Math.max(1, ...steps);
  let [vMin, vMax] = panel.yRange ?? [Math.min(...all.map((p) => p.value), 0), Math.max(...all.map((p) => p.value), 1e-6)];
  if (!Number.isFinite(vMin) || !Number.isFinite(vMax) || vMin === vMax) [vMin, vMax] = [0, 1];
  const sx = (s: number) => x0 + left + ((s - sMin) / (sMax - sMin)) * plotW;
  const sy = (v: number) => y0 + top + (1 - (v - vMin) / (vMax - vMin)) * plotH;
  const parts: string[] = [];
  parts.push(`<text x="${x0 + left}" y="${y0 + 16}" font-size="13" font-weight="bold">${esc(panel.title)}</text>`);
  parts.push(`<rect x="${x0 + left}" y="${y0 + top}" width="${plotW}" height="${plotH}" fill="none" stroke="#999"/>`);
  for (let k = 0; k <= 4; k++) {
    const v = vMin + ((vMax - vMin) * k) / 4;
    const y = sy(v);
    parts.push(`<line x1="${x0 + left}" x2="${x0 + left + plotW}" y1="${y}" y2="${y}" stroke="#eee"/>`);
    parts.push(`<text x="${x0 + left - 4}" y="${y + 4}" font-size="10" text-anchor="end">${fmt(v)}</text>`);
  }
  for (let k = 0; k <= 4; k++) {
    const s = sMin + ((sMax - sMin) * k) / 4;
    parts.push(`<text x="${sx(s)}" y="${y0 + top + plotH + 14}" font-size="10" text-anchor="middle">${Math.round(s)}</text>`);
  }
  parts.push(`<text x="${x0 + left + plotW / 2}" y="${y0 + height - 2}" font-size="10" text-anchor="middle">step</text>`);
  let legendY = y0 + top + 14;
  const legend: { text: string; colour: string }[] = [];
  for (const s of panel.series) {
    const pts = s.points.filter((p) => Number.isFinite(p.value));
    if (pts.length === 0) continue;
    const d = pts.map((p, i) => `${i === 0 ? 'M' : 'L'}${sx(p.step).toFixed(1)},${sy(Math.min(vMax, Math.max(vMin, p.value))).toFixed(1)}`).join('');
    parts.push(`<path d="${d}" fill="none" stroke="${s.colour}" stroke-width="${s.faint ? 1 : 2}" opacity="${s.faint ? 0.3 : 1}"/>`);
    if (s.dots) for (const p of pts) parts.push(`<circle cx="${sx(p.step).toFixed(1)}" cy="${sy(p.value).toFixed(1)}" r="2.5" fill="${s.colour}"/>`);
    if (!s.faint) legend.push({ text: `${s.label} ${fmt(pts[pts.length - 1].value)}`, colour: s.colour });
  }
  // Legend on a white box (drawn last, over the lines), at the right.
  if (legend.length > 0) {
    if (panel.legendAt === 'bottom') legendY = y0 + top + plotH - legend.length * 14 + 6;
    const boxW = Math.max(...legend.map((l) => l.text.length)) * 6.2 + 10;
    parts.push(`<rect x="${x0 + left + plotW - boxW - 2}" y="${legendY - 11}" width="${boxW}" height="${legend.length * 14 + 4}" fill="white" opacity="0.85" stroke="#ddd"/>`);
    for (const l of legend) {
      parts.push(`<text x="${x0 + left + plotW - 6}" y="${legendY}" font-size="11" text-anchor="end" fill="${l.colour}">${esc(l.text)}</text>`);
      legendY += 14;
    }
  }
  return parts.join('\n');
}

/** Panels side by side in one SVG document. */
export function curvesSvg(panels: CurvePanel[], options: { panelWidth?: number; height?: number } = {}): string {
  const w = options.panelWidth ?? 420;
  const h = options.height ?? 280;
  const body = panels.map((p, i) => panelSvg(p, i * w, 0, w, h)).join('\n');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w * panels.length}" height="${h}" viewBox="0 0 ${w * panels.length} ${h}" font-family="sans-serif">\n<rect width="100%" height="100%" fill="white"/>\n${body}\n</svg>\n`;
}

export interface MetricsRow {
  step: number;
  loss: number;
  valLoss?: number;
  valMeanBoxIou?: number;
  valBoxRecall?: number;
  valPixelIou?: number;
  valXnnScore?: number;
}

/** The standard two panels from metrics.csv rows. */
export function trainingCurves(rows: MetricsRow[]): string {
  const loss = rows.map((r) => ({ step: r.step, value: r.loss }));
  const window = Math.max(1, Math.round(rows.length / 30));
  const val = rows.filter((r) => r.valMeanBoxIou !== undefined && Number.isFinite(r.valMeanBoxIou));
  const series = (key: keyof MetricsRow) => val.map((r) => ({ step: r.step, value: r[key] as number }));
  return curvesSvg([
    {
      title: 'loss',
      series: [
        { label: 'train (raw)', colour: '#1f77b4', points: loss, faint: true },
        { label: 'train', colour: '#1f77b4', points: movingAverage(loss, window) },
        { label: 'validation', colour: '#d62728', points: val.map((r) => ({ step: r.step, value: r.valLoss ?? Number.NaN })), dots: true },
      ],
    },
    {
      title: 'validation',
      yRange: [0, 1],
      legendAt: 'bottom',
      series: [
        { label: 'mean box IoU', colour: '#2ca02c', points: series('valMeanBoxIou'), dots: true },
        { label: 'box recall', colour: '#9467bd', points: series('valBoxRecall'), dots: true },
        { label: 'pixel IoU', colour: '#ff7f0e', points: series('valPixelIou'), dots: true },
        { label: 'XNN score', colour: '#7f7f7f', points: series('valXnnScore'), dots: true },
      ],
    },
  ]);
}
