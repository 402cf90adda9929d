// Pascal VOC XML (REFERENCE §2.6; the VOC devkit's annotation fields), one file per image.
// Boxes are integer, 1-based pixel indices (the pixel span [x0, x1) is xmin = x0 + 1,
// xmax = x1; a point is the one pixel it falls in, xmin = xmax), so a round trip moves a box
// edge by at most half a pixel. VOC has no polygons or points; like Roboflow and CVAT we add
// them to the <object> — `<polygon><x1/><y1/>…</polygon>` (one per ring of a multi-part shape;
// an ellipse as its polygon with `<shape>ellipse</shape>`), `<point><x/><y/></point>`, and a
// COCO mask as `<rle>` (compressed counts) — next to a <bndbox> so plain VOC readers still get
// the box. LabelImg's `verified` attribute is kept. VOC has no crowd flag or keypoints.
import { rleCountsToString, rleRuns } from '../../augment/pixels/coco-rle.ts';
import { AnnotationInputError, clamp01, ellipsePolygon, roundTo, shapeBounds, DEFAULT_CLASS, type ImageAnnotation, type Point, type Shape } from '../shapes.ts';
import { child, childText, escapeXml, parseXml, type XmlElement } from './xml.ts';

export function toVoc(image: ImageAnnotation, options: { folder?: string; depth?: number } = {}): string {
  const W = image.width;
  const H = image.height;
  const base = image.fileName.split('/').pop() ?? image.fileName;
  const lines = [
    image.verified === undefined ? '<annotation>' : `<annotation verified="${image.verified ? 'yes' : 'no'}">`,
    `  <folder>${escapeXml(options.folder ?? 'images')}</folder>`,
    `  <filename>${escapeXml(base)}</filename>`,
    `  <path>${escapeXml(image.fileName)}</path>`,
    '  <source><database>picpac</database></source>',
    `  <size><width>${W}</width><height>${H}</height><depth>${options.depth ?? 3}</depth></size>`,
    `  <segmented>${image.shapes.some((s) => s.type !== 'rect' && s.type !== 'point') ? 1 : 0}</segmented>`,
  ];
  // Polygon vertices as printed: 1-based pixels, 2 decimals. An ellipse's polygon is built from
  // its box as printed, so reading the file back gives the same polygon.
  const printed = (points: Point[]): Point[] => points.map((p) => ({ x: roundTo(p.x * W + 1, 2), y: roundTo(p.y * H + 1, 2) }));
  const polygonXml = (ring: Point[]): string => `    <polygon>${ring.map((p, i) => `<x${i + 1}>${p.x}</x${i + 1}><y${i + 1}>${p.y}</y${i + 1}>`).join('')}</polygon>`;
  for (const shape of image.shapes) {
    let rings: Point[][] = [];
    if (shape.type === 'polygon') rings = [printed(shape.geometry.points)];
    else if (shape.type === 'polygons') rings = shape.geometry.points.map(printed);
    else if (shape.type === 'ellipse') {
      const g = shape.geometry;
      const [bx, by] = [roundTo(g.x * W + 1, 2), roundTo(g.y * H + 1, 2)];
      const [bw, bh] = [roundTo((g.x + g.width) * W + 1, 2) - bx, roundTo((g.y + g.height) * H + 1, 2) - by];
      rings = [ellipsePolygon({ x: bx, y: by, width: bw, height: bh }, 1, 1, false).map((p) => ({ x: roundTo(p.x, 2), y: roundTo(p.y, 2) }))];
    }
    // The box of what is printed (so a re-read gives the same box), else of the geometry.
    const b = rings.length > 0 ? printedBounds(rings, W, H) : shapeBounds(shape);
    // Pixel span [x0, x1) → 1-based xmin = x0 + 1, xmax = x1; a point is the one pixel it is in.
    const x0 = Math.min(W - 1, Math.floor(b.x * W + (shape.type === 'point' ? 0 : 0.5)));
    const y0 = Math.min(H - 1, Math.floor(b.y * H + (shape.type === 'point' ? 0 : 0.5)));
    const x1 = shape.type === 'point' ? x0 + 1 : Math.max(x0 + 1, Math.round((b.x + b.width) * W));
    const y1 = shape.type === 'point' ? y0 + 1 : Math.max(y0 + 1, Math.round((b.y + b.height) * H));
    lines.push('  <object>', `    <name>${escapeXml(shape.className ?? DEFAULT_CLASS)}</name>`, '    <pose>Unspecified</pose>', '    <truncated>0</truncated>', '    <difficult>0</difficult>');
    if (shape.id !== undefined) lines.push(`    <id>${escapeXml(shape.id)}</id>`);
    if (shape.tag !== undefined) lines.push(`    <tag>${shape.tag}</tag>`);
    if (shape.type !== 'rect' && shape.type !== 'polygon' && shape.type !== 'point') lines.push(`    <shape>${shape.type}</shape>`);
    lines.push(`    <bndbox><xmin>${x0 + 1}</xmin><ymin>${y0 + 1}</ymin><xmax>${x1}</xmax><ymax>${y1}</ymax></bndbox>`);
    for (const ring of rings) lines.push(polygonXml(ring));
    if (shape.type === 'rle') {
      const g = shape.geometry;
      const counts = typeof g.counts === 'string' ? g.counts : rleCountsToString(g.counts);
      lines.push(`    <rle><height>${g.size[0]}</height><width>${g.size[1]}</width><counts>${escapeXml(counts)}</counts></rle>`);
    } else if (shape.type === 'point') {
      lines.push(`    <point><x>${roundTo(shape.geometry.x * W + 1, 2)}</x><y>${roundTo(shape.geometry.y * H + 1, 2)}</y></point>`);
    }
    lines.push('  </object>');
  }
  lines.push('</annotation>', '');
  return lines.join('\n');
}

/** Normalised bounds of printed (1-based pixel) rings, clamped to the image as a reader does. */
function printedBounds(rings: Point[][], W: number, H: number): { x: number; y: number; width: number; height: number } {
  const xs = rings.flat().map((p) => clamp01((p.x - 1) / W));
  const ys = rings.flat().map((p) => clamp01((p.y - 1) / H));
  const x = Math.min(...xs);
  const y = Math.min(...ys);
  return { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y };
}

function numberIn(element: XmlElement, name: string, file: string | undefined): number {
  const text = childText(element, name);
  const value = text === undefined || text === '' ? NaN : Number(text);
  if (!Number.isFinite(value)) throw new AnnotationInputError(`<${name}> must be a number, got ${text === undefined ? 'nothing' : JSON.stringify(text)}`, { file, line: element.line });
  return value;
}

/** Read one VOC XML document (`file` is named in errors, with the line). */
export function fromVoc(xml: string, options: { file?: string } = {}): ImageAnnotation {
  const file = options.file;
  const root = parseXml(xml, file);
  if (root.name !== 'annotation') throw new AnnotationInputError(`root element must be <annotation>, got <${root.name}>`, { file, line: root.line });
  const size = child(root, 'size');
  if (size === undefined) throw new AnnotationInputError('<size> is missing', { file, line: root.line });
  const W = numberIn(size, 'width', file);
  const H = numberIn(size, 'height', file);
  if (!(W > 0 && H > 0 && Number.isInteger(W) && Number.isInteger(H))) throw new AnnotationInputError(`<size> must give positive integer width and height, got ${W}×${H}`, { file, line: size.line });
  const fileName = childText(root, 'filename') ?? '';
  if (fileName === '') throw new AnnotationInputError('<filename> is missing', { file, line: root.line });
  const image: ImageAnnotation = { fileName, width: W, height: H, shapes: [] };
  const verified = root.attributes.verified;
  if (verified !== undefined) image.verified = verified === 'yes' || verified === 'true' || verified === '1';
  for (const object of root.children.filter((c) => c.name === 'object')) {
    const name = childText(object, 'name');
    if (!name) throw new AnnotationInputError('<object> needs a <name>', { file, line: object.line });
    const extra: Pick<Shape, 'className' | 'id' | 'tag'> = { className: name };
    const id = childText(object, 'id');
    if (id) extra.id = id;
    const tag = childText(object, 'tag');
    if (tag !== undefined && /^-?\d+$/.test(tag)) extra.tag = Number(tag);
    const kind = childText(object, 'shape');
    const rings = object.children.filter((c) => c.name === 'polygon').map((polygon) => {
      const points: Point[] = [];
      for (let k = 1; child(polygon, `x${k}`) !== undefined; k++) {
        points.push({ x: clamp01((numberIn(polygon, `x${k}`, file) - 1) / W), y: clamp01((numberIn(polygon, `y${k}`, file) - 1) / H) });
      }
      if (points.length < 3) throw new AnnotationInputError(`<polygon> needs at least 3 points (x1, y1, …), got ${points.length}`, { file, line: polygon.line });
      return points;
    });
    const point = child(object, 'point');
    const rle = child(object, 'rle');
    if (kind === 'ellipse' && rings.length === 1) {
      // The polygon's extremes are the ellipse's box (ellipsePolygon puts vertices there).
      const xs = rings[0].map((p) => p.x);
      const ys = rings[0].map((p) => p.y);
      const x = Math.min(...xs);
      const y = Math.min(...ys);
      image.shapes.push({ ...extra, type: 'ellipse', geometry: { x, y, width: Math.max(...xs) - x, height: Math.max(...ys) - y } });
      continue;
    }
    if (rings.length === 1) {
      image.shapes.push({ ...extra, type: 'polygon', geometry: { points: rings[0] } });
      continue;
    }
    if (rings.length > 1) {
      image.shapes.push({ ...extra, type: 'polygons', geometry: { points: rings } });
      continue;
    }
    if (rle !== undefined) {
      const geometry = { size: [numberIn(rle, 'height', file), numberIn(rle, 'width', file)] as [number, number], counts: childText(rle, 'counts') ?? '' };
      try {
        rleRuns(geometry);
      } catch (error) {
        throw new AnnotationInputError(`<rle>: ${(error as Error).message}`, { file, line: rle.line });
      }
      image.shapes.push({ ...extra, type: 'rle', geometry });
      continue;
    }
    if (point !== undefined) {
      image.shapes.push({ ...extra, type: 'point', geometry: { x: clamp01((numberIn(point, 'x', file) - 1) / W), y: clamp01((numberIn(point, 'y', file) - 1) / H) } });
      continue;
    }
    const box = child(object, 'bndbox');
    if (box === undefined) throw new AnnotationInputError('<object> needs a <bndbox>', { file, line: object.line });
    const xmin = numberIn(box, 'xmin', file);
    const ymin = numberIn(box, 'ymin', file);
    const xmax = numberIn(box, 'xmax', file);
    const ymax = numberIn(box, 'ymax', file);
    if (!(xmax >= xmin && ymax >= ymin)) throw new AnnotationInputError(`<bndbox> max must not be below min, got x ${xmin}..${xmax}, y ${ymin}..${ymax}`, { file, line: box.line });
    const x0 = clamp01((xmin - 1) / W);
    const y0 = clamp01((ymin - 1) / H);
    image.shapes.push({ ...extra, type: 'rect', geometry: { x: x0, y: y0, width: Math.max(clamp01(xmax / W) - x0, 1 / W), height: Math.max(clamp01(ymax / H) - y0, 1 / H) } });
  }
  return image;
}
