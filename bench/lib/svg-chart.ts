// A grouped bar chart drawn as plain SVG (no dependency): one panel per data set, groups along
// x, one bar per series in each group, value labels on the bars, log-scaled y when asked.

export interface ChartPanel {
  title: string;
  groups: string[];
  /** values[series][group]; undefined = not measured. */
  values: Array<Array<number | undefined>>;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  series: string[];
  yLabel: string;
  logScale?: boolean;
  panels: ChartPanel[];
}

const COLORS = ['#d62728', '#ff7f0e', '#1f77b4', '#2ca02c', '#9467bd', '#8c564b', '#17becf'];

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function compact(value: number): string {
  if (value >= 1e6) return `${(value / 1e6).toFixed(1)}M`;
  if (value >= 1e4) return `${Math.round(value / 1e3)}k`;
  if (value >= 1e3) return `${(value / 1e3).toFixed(1)}k`;
  return `${Math.round(value)}`;
}

export function groupedBarChart(options: ChartOptions): string {
  const panelWidth = 600;
  const plotWidth = panelWidth - 70; // the gap holds the next panel's y labels
  const panelHeight = 330;
  const margin = { left: 70, top: 70, bottom: 60, right: 20 };
  const legendHeight = 24 * Math.ceil(options.series.length / 3);
  const width = margin.left + options.panels.length * panelWidth + margin.right;
  const height = margin.top + panelHeight + margin.bottom + legendHeight;
  const all = options.panels.flatMap((p) => p.values.flat()).filter((v): v is number => v !== undefined && v > 0);
  const max = Math.max(1, ...all);
  const min = Math.max(1, Math.min(...all, max));
  const logMin = Math.pow(10, Math.floor(Math.log10(min)));
  const logMax = Math.pow(10, Math.ceil(Math.log10(max)));
  const linMax = niceCeil(max);
  const y = (v: number) => {
    const plotHeight = panelHeight - 30;
    if (options.logScale) return panelHeight - ((Math.log10(Math.max(v, logMin)) - Math.log10(logMin)) / (Math.log10(logMax) - Math.log10(logMin))) * plotHeight;
    return panelHeight - (v / linMax) * plotHeight;
  };
  const ticks = options.logScale ? range(Math.log10(logMin), Math.log10(logMax)).map((e) => Math.pow(10, e)) : [0, 0.25, 0.5, 0.75, 1].map((f) => f * linMax);
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${width / 2}" y="24" text-anchor="middle" font-size="16" font-weight="bold">${esc(options.title)}</text>`);
  if (options.subtitle) out.push(`<text x="${width / 2}" y="44" text-anchor="middle" fill="#555">${esc(options.subtitle)}</text>`);
  options.panels.forEach((panel, p) => {
    const x0 = margin.left + p * panelWidth;
    const top = margin.top;
    out.push(`<g transform="translate(${x0},${top})">`);
    out.push(`<text x="${plotWidth / 2}" y="-8" text-anchor="middle" font-weight="bold">${esc(panel.title)}</text>`);
    for (const t of ticks) {
      const ty = y(t);
      out.push(`<line x1="0" x2="${plotWidth}" y1="${ty}" y2="${ty}" stroke="#ddd"/>`);
      out.push(`<text x="-6" y="${ty + 4}" text-anchor="end" fill="#555">${compact(t)}</text>`);
    }
    if (p === 0) out.push(`<text transform="translate(-52,${panelHeight / 2}) rotate(-90)" text-anchor="middle">${esc(options.yLabel)}</text>`);
    const groupWidth = plotWidth / panel.groups.length;
    const barWidth = (groupWidth - 16) / options.series.length;
    panel.groups.forEach((group, g) => {
      const gx = g * groupWidth + 8;
      options.series.forEach((_, s) => {
        const v = panel.values[s]?.[g];
        if (v === undefined) return;
        const bx = gx + s * barWidth;
        const by = y(v);
        out.push(`<rect x="${bx.toFixed(1)}" y="${by.toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${(panelHeight - by).toFixed(1)}" fill="${COLORS[s % COLORS.length]}"><title>${esc(`${options.series[s]} — ${group}: ${Math.round(v)}`)}</title></rect>`);
        out.push(`<text x="${(bx + barWidth / 2 - 1).toFixed(1)}" y="${(by - 3).toFixed(1)}" text-anchor="middle" font-size="9" fill="#333">${compact(v)}</text>`);
      });
      out.push(`<text x="${gx + (groupWidth - 16) / 2}" y="${panelHeight + 18}" text-anchor="middle">${esc(group)}</text>`);
    });
    out.push(`<line x1="0" x2="${plotWidth}" y1="${panelHeight}" y2="${panelHeight}" stroke="#333"/>`);
    out.push(`</g>`);
  });
  options.series.forEach((name, s) => {
    const lx = margin.left + (s % 3) * 300;
    const ly = margin.top + panelHeight + margin.bottom - 10 + 24 * Math.floor(s / 3);
    out.push(`<rect x="${lx}" y="${ly - 10}" width="14" height="14" fill="${COLORS[s % COLORS.length]}"/>`);
    out.push(`<text x="${lx + 20}" y="${ly + 2}">${esc(name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}

function niceCeil(v: number): number {
  const exp = Math.pow(10, Math.floor(Math.log10(v)));
  for (const m of [1, 2, 2.5, 5, 10]) if (m * exp >= v) return m * exp;
  return 10 * exp;
}

function range(from: number, to: number): number[] {
  const out: number[] = [];
  for (let e = from; e <= to; e++) out.push(e);
  return out;
}
