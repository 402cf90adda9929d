// Record page: the record's metadata, fields and annotation, the image rendered by /api/image
// with the stream parameters of the controls (changing one re-renders), and the label image.
'use strict';

const $ = (id) => document.getElementById(id);
const page = new URLSearchParams(location.search);
const recordId = page.get('id');
const CONTROL_NAMES = ['annotate', 'max_size', 'anno_thickness', 'perturb', 'pert_angle', 'pert_min_scale', 'pert_max_scale',
  'pert_color1', 'pert_color2', 'pert_color3', 'pert_colorspace', 'pert_hflip', 'pert_vflip', 'seed'];
let renders = 0;
/** Only the newest render may update the page (a slow older reply must not overwrite it). */
let latest = 0;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

function controlValue(input) {
  if (input.type === 'checkbox') return input.checked ? '1' : '0';
  return input.value;
}

function setControl(input, value) {
  if (input.type === 'checkbox') input.checked = value === '1' || value === 'true' || value === true;
  else input.value = String(value);
  const out = document.querySelector(`output[for="${input.id}"]`);
  if (out) out.textContent = input.value;
}

/** The stream parameters: the page's own query, overridden by the controls. */
function streamQuery() {
  const q = new URLSearchParams(page);
  q.delete('id');
  for (const name of CONTROL_NAMES) q.set(name, controlValue($(name)));
  return q;
}

async function showImage(img, url, caption, seq) {
  const reply = await fetch(url);
  if (seq !== latest) return null;
  if (!reply.ok) {
    const body = await reply.json().catch(() => ({ error: reply.statusText }));
    caption.textContent = `error ${reply.status}: ${body.error}`;
    caption.className = 'error';
    img.removeAttribute('src');
    img.dataset.url = url;
    return null;
  }
  const blob = await reply.blob();
  if (seq !== latest) return null;
  if (img.dataset.blob) URL.revokeObjectURL(img.dataset.blob);
  const objectUrl = URL.createObjectURL(blob);
  await new Promise((resolve) => {
    img.onload = resolve;
    img.onerror = resolve;
    img.src = objectUrl;
  });
  img.dataset.blob = objectUrl;
  img.dataset.url = url;
  caption.className = '';
  return reply;
}

async function render() {
  const seq = ++latest;
  const q = streamQuery();
  history.replaceState(null, '', `/record?id=${recordId}&${q}`);
  const imageUrl = `/api/image?id=${recordId}&${q}`;
  $('image-link').href = imageUrl;
  const reply = await showImage($('rendered'), imageUrl, $('rendered-caption'), seq);
  if (reply) {
    $('rendered-caption').textContent = `as the stream sees it: ${reply.headers.get('x-picpac-size')}`;
    $('perturbation').textContent = reply.headers.get('x-picpac-perturbation');
  }
  // The label as training sees it: the stream's own rendering (no copy, no palette, filled
  // shapes, label value 1), stretched to 0..255 so small label ids are visible.
  const annotate = q.get('annotate') || $('annotate').dataset.natural;
  $('label').closest('figure').hidden = !annotate;
  if (!annotate) {
    if (seq === latest) document.body.dataset.renders = String(++renders);
    return;
  }
  const labelQuery = new URLSearchParams(q);
  for (const [name, value] of Object.entries({ annotate, anno_copy: '0', anno_palette: '', anno_thickness: '-1', anno_color1: '1', output: 'label', norm: '1', format: 'png' })) {
    labelQuery.set(name, value);
  }
  const labelReply = await showImage($('label'), `/api/image?id=${recordId}&${labelQuery}`, $('label-caption'), seq);
  if (labelReply) $('label-caption').textContent = `label image (annotate=${annotate}, as the stream renders it, stretched to 0..255)`;
  if (seq !== latest) return;
  renders++;
  document.body.dataset.renders = String(renders);
}

async function main() {
  const [paramsReply, recordReply] = await Promise.all([fetch('/api/params'), fetch(`/api/record?id=${encodeURIComponent(recordId)}`)]);
  const params = await paramsReply.json();
  const record = await recordReply.json();
  if (!recordReply.ok) throw new Error(record.error);
  document.title = `record ${record.recordIndex} · picpac viewer`;
  $('title').textContent = `record ${record.recordIndex} of ${record.recordCount}`;
  $('status').textContent = `${record.format} · label ${record.label}${record.hasAnnotation ? ' · annotated' : ''}`;
  const natural = record.hasAnnotation ? 'json' : record.fields.some((f) => f.kind === 'label') ? 'image' : '';
  $('annotate').dataset.natural = natural;
  const defaults = { max_size: '512', seed: '2016', annotate: natural };
  for (const p of params.params) if (CONTROL_NAMES.includes(p.name) && defaults[p.name] === undefined) defaults[p.name] = String(p.default === true ? 1 : p.default === false ? 0 : p.default);
  Object.assign(defaults, params.viewerDefaults);
  if (defaults.max_size === undefined) defaults.max_size = '512';
  for (const name of CONTROL_NAMES) setControl($(name), page.has(name) ? page.get(name) : defaults[name]);

  const meta = $('meta');
  for (const key of ['recordIndex', 'id', 'label', 'label2', 'width', 'height', 'byteOffset', 'byteLength', 'hasAnnotation']) {
    meta.append(el('tr', {}, el('th', {}, key), el('td', { 'data-key': key }, String(record[key]))));
  }
  const fields = $('fields');
  fields.append(el('tr', {}, ...['#', 'kind', 'type', 'bytes', 'size', 'raw'].map((h) => el('th', {}, h))));
  for (const f of record.fields) {
    fields.append(el('tr', {}, el('td', {}, f.index), el('td', {}, f.kind), el('td', {}, f.type), el('td', {}, f.byteLength.toLocaleString('en-US')),
      el('td', {}, f.width ? `${f.width}x${f.height}` : ''), el('td', {}, el('a', { href: f.url }, 'download'))));
  }
  const stored = record.fields.find((f) => f.kind === 'image' && /^image\/(jpeg|png|webp|gif)$/.test(f.type));
  if (stored) {
    $('stored').src = stored.url;
    $('stored-caption').textContent = `stored image (field ${stored.index}, ${stored.type}, ${stored.width}x${stored.height}, as is)`;
    $('stored-figure').hidden = false;
  }
  if (record.annotationText !== null) {
    let text = record.annotationText;
    try {
      text = JSON.stringify(JSON.parse(text), null, 2);
    } catch {}
    $('annotation').textContent = record.annotationError ? `${record.annotationError}\n\n${text}` : text;
  }

  const controls = $('controls');
  const showValue = (event) => {
    const out = document.querySelector(`output[for="${event.target.id}"]`);
    if (out) out.textContent = event.target.value;
  };
  controls.addEventListener('input', showValue);
  controls.addEventListener('change', (event) => {
    showValue(event);
    void render().catch(fail);
  });
  $('reroll').addEventListener('click', () => {
    $('seed').value = String(Number($('seed').value || 0) + 1);
    void render().catch(fail);
  });
  await render();
  document.body.dataset.ready = '1';
}

function fail(error) {
  $('status').textContent = `Error: ${error.message}`;
  $('status').className = 'error';
  document.body.dataset.ready = 'error';
}

main().catch(fail);
