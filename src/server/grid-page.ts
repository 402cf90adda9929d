// The sample grid, `/l?count=20&annotate=json&…` (the original server's `/l`): rendered on the
// server as plain HTML so it works without JavaScript, one <img> per sampled record pointing at
// /api/image with the page's own stream parameters, each linking to its record page. Every
// interpolated value is escaped.

/** Escape text for HTML element content and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

/** Content-Security-Policy of every page: same-origin scripts, styles and images (data: for the stream page). */
export const PAGE_CSP = "default-src 'self'; img-src 'self' data: blob:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

export interface GridItem {
  recordIndex: number;
  label: number;
  hasAnnotation: boolean;
}

export interface GridPageOptions {
  /** Database name shown in the title. */
  name: string;
  recordCount: number;
  items: readonly GridItem[];
  /** Stream parameters to pass to every image (already validated), as a query string. */
  streamQuery: string;
  /** Added to image URLs only (e.g. max_size=300 when the page sets no size). */
  imageQuery: string;
  seed: number;
  /** Query of the "another sample" link (the page's own, with the next seed). */
  againQuery: string;
}

export function navHtml(active: 'overview' | 'grid' | 'record' | 'stream'): string {
  const link = (href: string, key: string, text: string) => `<a href="${href}"${key === active ? ' class="active"' : ''}>${text}</a>`;
  return `<nav>${link('/', 'overview', 'Overview')}${link('/l?count=20&amp;annotate=json', 'grid', 'Samples')}${link('/stream', 'stream', 'Stream')}</nav>`;
}

export function gridPageHtml(o: GridPageOptions): string {
  const join = (...parts: string[]) => parts.filter((p) => p !== '').join('&');
  const figures = o.items.map((item) => {
    const imageUrl = `/api/image?${join(`id=${item.recordIndex}`, o.streamQuery, o.imageQuery)}`;
    const recordUrl = `/record?${join(`id=${item.recordIndex}`, o.streamQuery)}`;
    return `<figure class="sample" data-id="${item.recordIndex}"><a href="${escapeHtml(recordUrl)}"><img src="${escapeHtml(imageUrl)}" alt="record ${item.recordIndex}" loading="eager"></a>` +
      `<figcaption>#${item.recordIndex} · label ${escapeHtml(String(item.label))}${item.hasAnnotation ? ' · annotated' : ''}</figcaption></figure>`;
  }).join('\n');
  const again = `/l?${o.againQuery}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(o.name)} · samples</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="stylesheet" href="/static/style.css"></head>
<body>
<header><h1>${escapeHtml(o.name)}</h1>${navHtml('grid')}</header>
<main>
<p class="hint">${o.items.length} of ${o.recordCount} records (seed ${o.seed}). Parameters: <code>${escapeHtml(o.streamQuery || '(none)')}</code>.
<a id="again" href="${escapeHtml(again)}">Another sample</a></p>
<section id="grid" class="grid">
${figures}
</section>
</main>
</body></html>
`;
}

/** A small HTML error page for page routes (API routes answer JSON). */
export function errorPageHtml(status: number, message: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${status}</title><link rel="stylesheet" href="/static/style.css"></head>
<body><header><h1>picpac viewer</h1>${navHtml('overview')}</header><main><p class="error" id="error">${status}: ${escapeHtml(message)}</p></main></body></html>
`;
}
