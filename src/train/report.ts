// The demo's HTML report: numbers (validation metrics of the best snapshot against the trivial
// baseline, throughput, stream share, timings), the training curves (inline SVG) and the
// prediction overlays of held-out images. One self-contained file next to its images.
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { EvalMetrics } from './evaluate.ts';

export interface ReportData {
  title: string;
  /** Rows of [label, value] for the numbers table. */
  summary: [string, string][];
  validation: EvalMetrics;
  baseline: { description: string; metrics: EvalMetrics };
  curvesSvgPath: string;
  overlays: { path: string; caption: string }[];
  /** Step timings [title, seconds]. */
  timings: [string, number][];
  commands: string[];
  notes: string[];
}

const esc = (text: string) => text.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
const f3 = (v: number) => (Number.isFinite(v) ? v.toFixed(3) : 'n/a');

export async function writeReport(file: string, data: ReportData): Promise<void> {
  const dir = path.dirname(file);
  const svg = (await readFile(data.curvesSvgPath, 'utf8')).replace(/^<\?xml[^>]*>/, '');
  const v = data.validation;
  const b = data.baseline.metrics;
  const metricRows: [string, string, string][] = [
    ['mean IoU of predicted boxes (best IoU per true box)', f3(v.meanBoxIou), f3(b.meanBoxIou)],
    ['box recall (IoU ≥ 0.5)', f3(v.boxRecall), f3(b.boxRecall)],
    ['box precision (IoU ≥ 0.5)', f3(v.boxPrecision), f3(b.boxPrecision)],
    ['pixel precision / recall / IoU', `${f3(v.pixelPrecision)} / ${f3(v.pixelRecall)} / ${f3(v.pixelIou)}`, '–'],
    ["XNN score (share of pixels flagged to recover half the object; lower is better)", f3(v.xnnScore), '–'],
    ['validation images / objects / predicted boxes', `${v.images} / ${v.trueBoxes} / ${v.predictedBoxes}`, `${b.images} / ${b.trueBoxes} / ${b.predictedBoxes}`],
  ];
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(data.title)}</title>
<style>
body { font-family: system-ui, sans-serif; margin: 24px; color: #222; max-width: 1100px; }
table { border-collapse: collapse; margin: 8px 0 20px; }
td, th { border: 1px solid #ccc; padding: 4px 10px; text-align: left; }
th { background: #f4f4f4; }
.grid { display: flex; flex-wrap: wrap; gap: 10px; }
figure { margin: 0; font-size: 12px; }
figure img { width: 256px; height: auto; display: block; border: 1px solid #ccc; }
code, pre { background: #f6f6f6; }
pre { padding: 8px; overflow-x: auto; }
</style></head><body>
<h1>${esc(data.title)}</h1>
<h2>Validation (held-out fold, best snapshot) vs. the trivial baseline</h2>
<table><tr><th>metric</th><th>model</th><th>baseline: ${esc(data.baseline.description)}</th></tr>
${metricRows.map((r) => `<tr><td>${esc(r[0])}</td><td><b>${esc(r[1])}</b></td><td>${esc(r[2])}</td></tr>`).join('\n')}
</table>
<h2>Run</h2>
<table>${data.summary.map(([k, val]) => `<tr><th>${esc(k)}</th><td>${esc(val)}</td></tr>`).join('\n')}</table>
<h2>Training curves</h2>
${svg}
<h2>Held-out images: heat map (red) and predicted boxes (green)</h2>
<div class="grid">
${data.overlays.map((o) => `<figure><img src="${esc(path.relative(dir, o.path))}" alt="${esc(o.caption)}"><figcaption>${esc(o.caption)}</figcaption></figure>`).join('\n')}
</div>
<h2>Timings</h2>
<table>${data.timings.map(([k, s]) => `<tr><td>${esc(k)}</td><td>${s.toFixed(1)} s</td></tr>`).join('\n')}</table>
<h2>Commands</h2>
<pre>${data.commands.map(esc).join('\n')}</pre>
${data.notes.length > 0 ? `<h2>Notes</h2><ul>${data.notes.map((n) => `<li>${esc(n)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
  await writeFile(file, html);
}
