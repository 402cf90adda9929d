// Stream page: /api/stream returns one batch (image and label per sample, as PNG data URLs);
// "next batch" resumes from the position the previous batch reported.
'use strict';

const $ = (id) => document.getElementById(id);
let position = null;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  for (const c of children) node.append(c instanceof Node ? c : document.createTextNode(String(c)));
  return node;
}

async function load(resume) {
  const q = new URLSearchParams($('params').value.trim().replace(/^\?/, ''));
  if (resume && position) {
    q.set('resume_epoch', String(position.epoch));
    q.set('resume_offset', String(position.offset));
  }
  history.replaceState(null, '', `/stream?${q}`);
  $('status').textContent = 'Running…';
  $('status').className = 'hint';
  const reply = await fetch(`/api/stream?${q}`);
  const body = await reply.json();
  if (!reply.ok) throw new Error(body.error);
  position = body.position;
  $('status').textContent = `${body.describe} — images ${JSON.stringify(body.imageShape)}, labels ${JSON.stringify(body.labelShape)} (${body.labelKind}), ` +
    `${body.count} samples, position epoch ${position.epoch} offset ${position.offset}` + (body.warnings.length ? ` — ${body.warnings.join('; ')}` : '');
  const batch = $('batch');
  batch.textContent = '';
  for (const s of body.samples) {
    const imgs = el('div', { class: 'imgs' }, el('img', { src: s.image, alt: `image of record ${s.recordIndex}`, class: 'stream-image' }));
    if (s.labelImage) imgs.append(el('img', { src: s.labelImage, alt: `label of record ${s.recordIndex}`, class: 'stream-label' }));
    const caption = s.labelValues ? `label ${s.labelValues.length === 1 ? s.labelValues[0] : `[${s.labelValues.join(', ')}]`}` : 'label map';
    batch.append(el('div', { class: 'item', 'data-record': String(s.recordIndex) }, imgs,
      el('div', { class: 'hint' }, el('a', { href: `/record?id=${s.recordIndex}` }, `#${s.recordIndex}`), ` · id ${s.id} · ${caption}`)));
  }
  document.body.dataset.ready = String(Number(document.body.dataset.ready || 0) + 1);
}

function fail(error) {
  $('status').textContent = `Error: ${error.message}`;
  $('status').className = 'error';
  document.body.dataset.ready = 'error';
}

const initial = location.search.replace(/^\?/, '');
if (initial) $('params').value = decodeURIComponent(initial);
$('form').addEventListener('submit', (event) => {
  event.preventDefault();
  position = null;
  void load(false).catch(fail);
});
$('next').addEventListener('click', () => void load(true).catch(fail));
void load(false).catch(fail);
