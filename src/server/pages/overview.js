// Overview page: renders /api/overview (explorer keys + picpac details) with plain DOM calls.
'use strict';

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function bars(container, rows) {
  container.textContent = '';
  if (rows.length === 0) {
    container.append(el('p', { class: 'hint' }, 'none'));
    return;
  }
  const max = Math.max(...rows.map((r) => r[1]));
  for (const [key, count] of rows) {
    const fill = el('span', { class: 'fill' });
    fill.style.width = `${Math.max(1, Math.round((count / max) * 200))}px`;
    container.append(el('div', { class: 'bar' }, el('span', { class: 'key', title: String(key) }, String(key)), fill, el('span', {}, count.toLocaleString('en-US'))));
  }
}

function summaryValue(o, key) {
  const entry = o.SUMMARY.find((e) => e.key === key);
  return entry === undefined ? undefined : entry;
}

async function main() {
  const reply = await fetch('/api/overview');
  const o = await reply.json();
  if (!reply.ok) throw new Error(o.error || reply.statusText);
  document.title = `${o.name} · overview`;
  $('title').textContent = o.name;
  $('status').textContent = `${o.format}${o.recovered ? ' (opened in recovery mode: the file is being written)' : ''}`;
  const cards = $('cards');
  const card = (id, name, value) => cards.append(el('div', { class: 'card', id }, el('div', { class: 'value' }, value), el('div', { class: 'name' }, name)));
  card('total-images', 'images', o.recordCount.toLocaleString('en-US'));
  card('total-mb', 'file size (MB)', summaryValue(o, 'TOTAL_MB').display);
  card('task', 'task', o.task);
  card('annotated', 'annotated images', o.annotatedCount.toLocaleString('en-US'));
  card('shape-count', 'shapes (scanned)', summaryValue(o, 'SHAPE_CNT').display);
  const scale = summaryValue(o, 'MEAN_SCALE');
  if (scale) card('mean-scale', 'mean scale √(W·H)', scale.display);

  const labels = o.labels;
  if (labels.kind === 'integer') {
    $('labels-title').textContent = `Labels: ${labels.distinct} classes`;
    bars($('labels'), labels.counts);
  } else if (labels.kind === 'float') {
    $('labels-title').textContent = `Labels: regression (${labels.distinct} distinct values, ${labels.min}..${labels.max})`;
    bars($('labels'), labels.histogram.map((b) => [b.from.toPrecision(3), b.count]));
  } else if (labels.kind === 'constant') {
    $('labels-title').textContent = `Labels: all ${labels.value}`;
    bars($('labels'), [[labels.value, o.recordCount]]);
  } else {
    $('labels-title').textContent = 'Labels: none';
  }
  bars($('shapes'), o.SHAPE_CNT);
  bars($('sizes'), o.sizes ? o.sizes.longSide.map((b) => [`≤ ${b.upTo}`, b.count]) : []);

  const details = $('details');
  const row = (k, v) => details.append(el('tr', {}, el('th', {}, k), el('td', {}, v)));
  row('format', o.format);
  row('records', o.recordCount);
  row('file bytes', o.fileByteLength === null ? 'n/a' : o.fileByteLength.toLocaleString('en-US'));
  if (o.sizes) {
    row('width min / median / max', `${o.sizes.width.min} / ${o.sizes.width.median} / ${o.sizes.width.max}`);
    row('height min / median / max', `${o.sizes.height.min} / ${o.sizes.height.median} / ${o.sizes.height.max}`);
    row('common sizes', o.sizes.common.map((c) => `${c.size} (${c.count})`).join(', '));
  }
  row('codecs', Object.entries(o.codecs).map(([k, v]) => `${k}: ${v}`).join(', '));
  row('field types (scanned)', Object.entries(o.fieldTypes).map(([k, v]) => `${k}: ${v}`).join(', '));
  row('invalid annotations (scanned)', o.shapes.invalidAnnotations);
  row('scan errors', o.scanErrors.count);

  $('collage').src = '/api/collage.jpg';

  const classes = $('classes');
  o.CLASSES.forEach((value, k) => {
    const strip = el('div', { class: 'thumbs', 'data-class': String(k) });
    const shown = Math.min(o.SAMPLE_SIZES[k], 12);
    for (let i = 0; i < shown; i++) strip.append(el('img', { src: `/api/thumb?class=${k}&offset=${i}`, alt: `class ${value} #${i}` }));
    classes.append(el('h3', {}, o.CLASSES.length > 1 ? `label ${value} (${o.SAMPLE_SIZES[k]} sampled)` : `all (${o.SAMPLE_SIZES[k]} sampled)`), strip);
  });

  const summary = $('summary');
  summary.append(el('tr', {}, el('th', {}, 'key'), el('th', {}, 'name'), el('th', {}, 'value')));
  for (const e of o.SUMMARY) summary.append(el('tr', { 'data-key': e.key }, el('td', {}, el('code', {}, e.key)), el('td', {}, e.name), el('td', {}, e.display)));
  document.body.dataset.ready = '1';
}

main().catch((error) => {
  $('status').textContent = `Error: ${error.message}`;
  $('status').className = 'error';
  document.body.dataset.ready = 'error';
});
