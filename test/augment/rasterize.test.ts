// Shape rasterisation (v1 OpenCV semantics) and annotation JSON parsing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AnnotationError, annotationBounds, parseAnnotation } from '../../src/augment/annotation.ts';
import type { Annotation, Shape } from '../../src/augment/annotation.ts';
import { FormatError } from '../../src/errors.ts';
import { PALETTES, createLabelCanvas, rasterizeAnnotation } from '../../src/augment/pixels/rasterize.ts';
import { countPixels, makeImage, pixel } from './helpers.ts';
import { digitGlyph } from '../../src/augment/pixels/digits.ts';
import { prepareSample } from '../../src/augment/stream/sample-transform.ts';

const one = (shape: Shape): Annotation => ({ shapes: [shape] });

describe('rasterizeAnnotation', () => {
  test('rect: exact pixel count, rounded like std::round, default colour [1, 0, 0]', () => {
    const label = rasterizeAnnotation(one({ type: 'rect', x: 0.1, y: 0.2, width: 0.5, height: 0.25 }), 100, 80);
    assert.equal(countPixels(label, (v) => v === 1), 50 * 20);
    assert.deepEqual(pixel(label, 10, 16), [1]);
    assert.deepEqual(pixel(label, 59, 35), [1]);
    assert.deepEqual(pixel(label, 60, 35), [0]);
    assert.deepEqual(pixel(label, 9, 16), [0]);
    // 0.125 × 100 = 12.5 → 13 (half away from zero).
    const half = rasterizeAnnotation(one({ type: 'rect', x: 0.125, y: 0, width: 0.1, height: 0.1 }), 100, 10);
    assert.deepEqual(pixel(half, 13, 0), [1]);
    assert.deepEqual(pixel(half, 12, 0), [0]);
  });

  test('polygon: even-odd fill with the boundary included (cv::fillPoly)', () => {
    // Square with corners (10, 10) and (30, 30): 21 × 21 pixels including its edges.
    const square = one({ type: 'polygon', points: [{ x: 0.1, y: 0.1 }, { x: 0.3, y: 0.1 }, { x: 0.3, y: 0.3 }, { x: 0.1, y: 0.3 }] });
    assert.equal(countPixels(rasterizeAnnotation(square, 100, 100), (v) => v > 0), 21 * 21);
    // Right triangle with legs 40: area 800 plus half the boundary (~68) → within [800, 900].
    const tri = one({ type: 'polygon', points: [{ x: 0.1, y: 0.1 }, { x: 0.5, y: 0.1 }, { x: 0.1, y: 0.5 }] });
    const area = countPixels(rasterizeAnnotation(tri, 100, 100), (v) => v > 0);
    assert.ok(area >= 800 && area <= 900, `triangle area ${area}`);
    // A bow-tie (self-intersecting): the left and right lobes are filled, top and bottom are not.
    const star = one({ type: 'polygon', points: [{ x: 0.1, y: 0.1 }, { x: 0.5, y: 0.5 }, { x: 0.5, y: 0.1 }, { x: 0.1, y: 0.5 }] });
    const bow = rasterizeAnnotation(star, 100, 100);
    assert.deepEqual(pixel(bow, 15, 30), [1]);
    assert.deepEqual(pixel(bow, 45, 30), [1]);
    assert.deepEqual(pixel(bow, 30, 15), [0]);
    assert.deepEqual(pixel(bow, 30, 45), [0]);
    // Even-odd vs non-zero: a ring traced twice in the same direction is filled under non-zero
    // winding but empty under even-odd, apart from its boundary.
    const sq = [{ x: 0.1, y: 0.1 }, { x: 0.5, y: 0.1 }, { x: 0.5, y: 0.5 }, { x: 0.1, y: 0.5 }];
    const twice = rasterizeAnnotation(one({ type: 'polygon', points: [...sq, ...sq] }), 100, 100);
    assert.deepEqual(pixel(twice, 30, 30), [0]);
  });

  test('polygons: each ring filled separately (their union)', () => {
    const rings = [[{ x: 0, y: 0 }, { x: 0.2, y: 0 }, { x: 0.2, y: 0.2 }, { x: 0, y: 0.2 }], [{ x: 0.1, y: 0.1 }, { x: 0.3, y: 0.1 }, { x: 0.3, y: 0.3 }, { x: 0.1, y: 0.3 }]];
    const label = rasterizeAnnotation(one({ type: 'polygons', rings }), 100, 100);
    assert.equal(countPixels(label, (v) => v > 0), 2 * 21 * 21 - 11 * 11);
  });

  test('ellipse: inscribed in its box, area ≈ πab within 3 %', () => {
    const label = rasterizeAnnotation(one({ type: 'ellipse', x: 0.2, y: 0.1, width: 0.6, height: 0.8 }), 200, 100);
    const area = countPixels(label, (v) => v > 0);
    const expected = Math.PI * 60 * 40;
    assert.ok(Math.abs(area - expected) / expected < 0.03, `area ${area} vs ${expected.toFixed(0)}`);
    assert.deepEqual(pixel(label, 100, 50), [1]);
    assert.deepEqual(pixel(label, 41, 12), [0]); // box corner is outside the ellipse
  });

  test('point: circle of point_radius pixels; radius 0 is one pixel', () => {
    const point = one({ type: 'point', x: 0.5, y: 0.5 });
    // Filled spans end at rounded crossings (as OpenCV's FillConvexPoly), so discs run "fat":
    // between πr² and π(r + 1)².
    const r10 = countPixels(rasterizeAnnotation(point, 100, 100, { pointRadius: 10 }), (v) => v > 0);
    assert.ok(r10 >= Math.PI * 100 && r10 <= Math.PI * 121, `r=10 area ${r10}`);
    const dot = rasterizeAnnotation(point, 100, 100, { pointRadius: 0 });
    assert.equal(countPixels(dot, (v) => v > 0), 1);
    assert.deepEqual(pixel(dot, 50, 50), [1]);
    assert.ok(countPixels(rasterizeAnnotation(point, 100, 100), (v) => v > 0) > 20); // default radius 3
  });

  test('thickness > 0 draws outlines', () => {
    const rect = one({ type: 'rect', x: 0.1, y: 0.1, width: 0.5, height: 0.5 });
    const thin = rasterizeAnnotation(rect, 100, 100, { thickness: 1 });
    assert.equal(countPixels(thin, (v) => v > 0), 4 * 49);
    assert.deepEqual(pixel(thin, 30, 30), [0]);
    const thick = countPixels(rasterizeAnnotation(rect, 100, 100, { thickness: 3 }), (v) => v > 0);
    assert.ok(thick > 3 * 4 * 45 && thick < 4 * 4 * 53, `thick outline ${thick}`);
    const ring = rasterizeAnnotation(one({ type: 'ellipse', x: 0.2, y: 0.2, width: 0.6, height: 0.6 }), 100, 100, { thickness: 2 });
    assert.deepEqual(pixel(ring, 50, 50), [0]);
    assert.ok(countPixels(ring, (v) => v > 0) > 2 * Math.PI * 30);
    assert.throws(() => rasterizeAnnotation(rect, 10, 10, { thickness: 0 }), TypeError);
  });

  test('label value: number → channel 0 only; array → per channel; anno_color for the rest', () => {
    const shapes: Annotation = { shapes: [
      { type: 'rect', x: 0, y: 0, width: 0.5, height: 1, label: 7 },
      { type: 'rect', x: 0.5, y: 0, width: 0.25, height: 1, label: [1, 2, 3] },
      { type: 'rect', x: 0.75, y: 0, width: 0.25, height: 1 },
    ] };
    const label = rasterizeAnnotation(shapes, 8, 2, { annoType: 16, color: [9, 8, 7] }); // CV_8UC3
    assert.equal(label.channels, 3);
    assert.deepEqual(pixel(label, 0, 0), [7, 0, 0]);
    assert.deepEqual(pixel(label, 4, 1), [1, 2, 3]);
    assert.deepEqual(pixel(label, 7, 1), [9, 8, 7]);
  });

  test('palettes: id → colour, index 0 black, out-of-range → 0; 21 entries each', () => {
    for (const p of Object.values(PALETTES)) {
      assert.equal(p.length, 21);
      assert.deepEqual(p[0], [0, 0, 0]);
    }
    const shapes: Annotation = { shapes: [
      { type: 'rect', x: 0, y: 0, width: 0.25, height: 1, label: 1 },
      { type: 'rect', x: 0.25, y: 0, width: 0.25, height: 1, label: 3 },
      { type: 'rect', x: 0.5, y: 0, width: 0.25, height: 1, label: 99 },
    ] };
    const t20 = rasterizeAnnotation(shapes, 8, 1, { annoType: 16, palette: 'tableau20' });
    assert.deepEqual(pixel(t20, 0, 0), [31, 119, 180]);
    assert.deepEqual(pixel(t20, 2, 0), [255, 127, 14]);
    assert.deepEqual(pixel(t20, 4, 0), [0, 0, 0]);
    const t20a = rasterizeAnnotation(shapes, 8, 1, { annoType: 16, palette: 'tableau20a' });
    assert.deepEqual(pixel(t20a, 0, 0), [188, 189, 34]);
    assert.throws(() => rasterizeAnnotation(shapes, 8, 1, { palette: 'viridis' as never }), TypeError);
  });

  test('anno_type float32 keeps fractional labels; anno_copy draws on the image', () => {
    const f = rasterizeAnnotation(one({ type: 'rect', x: 0, y: 0, width: 1, height: 1, label: 0.25 }), 2, 2, { annoType: 5 });
    assert.ok(f.data instanceof Float32Array);
    assert.deepEqual(Array.from(f.data), [0.25, 0.25, 0.25, 0.25]);
    const image = makeImage(4, 1, 3, () => 50);
    const copy = rasterizeAnnotation(one({ type: 'rect', x: 0, y: 0, width: 0.5, height: 1, label: [255, 0, 0] }), 4, 1, { copyOf: image });
    assert.deepEqual(pixel(copy, 0, 0), [255, 0, 0]);
    assert.deepEqual(pixel(copy, 3, 0), [50, 50, 50]);
    assert.deepEqual(pixel(image, 0, 0), [50, 50, 50], 'the image itself is untouched');
  });

  test('createLabelCanvas: OpenCV type codes; unsupported depth refused', () => {
    assert.deepEqual([createLabelCanvas(3, 2, 0).channels, createLabelCanvas(3, 2, 0).data.constructor.name], [1, 'Uint8Array']);
    assert.equal(createLabelCanvas(3, 2, 2).data.constructor.name, 'Uint16Array');
    assert.equal(createLabelCanvas(3, 2, 21).channels, 3);
    assert.throws(() => createLabelCanvas(3, 2, 6), /anno_type/); // CV_64F
  });

  test('shapes partly or wholly outside the canvas are clipped, never thrown', () => {
    const shapes: Annotation = { shapes: [
      { type: 'rect', x: -0.5, y: -0.5, width: 1, height: 1 },
      { type: 'polygon', points: [{ x: 2, y: 2 }, { x: 3, y: 2 }, { x: 3, y: 3 }] },
      { type: 'ellipse', x: 0.9, y: 0.9, width: 0.5, height: 0.5 },
      { type: 'polygon', points: [] },
    ] };
    const label = rasterizeAnnotation(shapes, 10, 10);
    assert.equal(countPixels(label, (v) => v > 0) >= 25, true);
  });
});

describe('parseAnnotation', () => {
  test('typed shapes; unknown keys ignored; missing shapes → empty in v1 mode', () => {
    const text = JSON.stringify({ version: 3, shapes: [
      { type: 'rect', label: 1, tag: 3, extra: true, geometry: { x: 0.15, y: 0.13, width: 0.06, height: 0.08, rotation: 0 } },
      { type: 'polygon', geometry: { points: [{ x: 0.62, y: 0.75 }, { x: 0.7, y: 0.8 }, { x: 0.6, y: 0.9 }] } },
      { type: 'polygons', label: [1, 2], geometry: { points: [[{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }]] } },
      { type: 'point', geometry: { x: 0.5, y: 0.5 } },
      { type: 'ellipse', geometry: { x: 0, y: 0, width: 1, height: 1 } },
    ] });
    const a = parseAnnotation(text);
    assert.deepEqual(a.shapes.map((s) => s.type), ['rect', 'polygon', 'polygons', 'point', 'ellipse']);
    assert.deepEqual(a.shapes[0], { type: 'rect', label: 1, tag: 3, x: 0.15, y: 0.13, width: 0.06, height: 0.08 });
    assert.deepEqual(parseAnnotation('{}'), { shapes: [] });
    assert.deepEqual(parseAnnotation(new TextEncoder().encode('{"shapes": []}')), { shapes: [] });
  });

  test('errors are AnnotationError (a FormatError) naming the record and shape', () => {
    const cases: Array<[string, RegExp]> = [
      ['{"shapes": [', /bad JSON/],
      ['[1, 2]', /must be a JSON object/],
      ['{"shapes": {}}', /"shapes" must be an array/],
      ['{"shapes": [{"type": "star", "geometry": {}}]}', /shape 0: unknown shape type/],
      ['{"shapes": [{"type": "rect", "geometry": {"x": 0, "y": 0, "width": "1", "height": 1}}]}', /shape 0: geometry.width must be a finite number/],
      ['{"shapes": [{"type": "rect"}]}', /geometry must be an object/],
      ['{"shapes": [{"type": "polygon", "geometry": {"points": [{"x": 0}]}}]}', /geometry.points\[0\].y/],
      ['{"shapes": [{"type": "rect", "label": "cat", "geometry": {"x": 0, "y": 0, "width": 1, "height": 1}}]}', /label must be a number/],
    ];
    for (const [text, pattern] of cases) {
      assert.throws(() => parseAnnotation(text, { recordIndex: 12 }), (e: unknown) =>
        e instanceof AnnotationError && e instanceof FormatError && e.recordIndex === 12 && pattern.test(e.message) && /\(record 12\)/.test(e.message), text);
    }
    assert.throws(() => parseAnnotation('{}', { mode: 'strict' }), AnnotationError);
    assert.throws(() => parseAnnotation(Uint8Array.of(0xff, 0xfe)), /not valid UTF-8/);
  });

  test('annotationBounds: union box of shapes with positive area', () => {
    const a = parseAnnotation(JSON.stringify({ shapes: [
      { type: 'rect', geometry: { x: 0.1, y: 0.2, width: 0.1, height: 0.1 } },
      { type: 'polygon', geometry: { points: [{ x: 0.5, y: 0.5 }, { x: 0.6, y: 0.7 }, { x: 0.55, y: 0.6 }] } },
      { type: 'rect', geometry: { x: 0.9, y: 0.9, width: 0, height: 0.1 } },
    ] }));
    const b = annotationBounds(a)!;
    assert.ok(Math.abs(b.x - 0.1) < 1e-9 && Math.abs(b.y - 0.2) < 1e-9 && Math.abs(b.width - 0.5) < 1e-9 && Math.abs(b.height - 0.5) < 1e-9);
    assert.equal(annotationBounds({ shapes: [] }), null);
  });
});

/** Pixels (x, y) where two canvases differ, sorted. */
function diffPixels(a: { width: number; height: number; channels: number; data: ArrayLike<number> }, b: typeof a): string[] {
  const out: string[] = [];
  for (let y = 0; y < a.height; y++) {
    for (let x = 0; x < a.width; x++) {
      for (let k = 0; k < a.channels; k++) {
        if (a.data[(y * a.width + x) * a.channels + k] !== b.data[(y * a.width + x) * a.channels + k]) {
          out.push(`${x},${y}`);
          break;
        }
      }
    }
  }
  return out.sort();
}

/** The pixels text would set with the 3×5 font at (left, top), scale 1. */
function glyphPixels(text: string, left: number, top: number): string[] {
  const out: string[] = [];
  [...text].forEach((char, i) => digitGlyph(char)!.forEach((row, y) => row.forEach((set, x) => {
    if (set) out.push(`${left + i * 4 + x},${top + y}`);
  })));
  return out.sort();
}

describe('anno_number (v1: each shape\'s index drawn next to it)', () => {
  const shapes: Annotation = { shapes: [
    { type: 'rect', x: 0.25, y: 0.5, width: 0.25, height: 0.25 }, // box (16, 24)-(31, 35): "1" above it at (16, 18)
    { type: 'rect', x: 0.5, y: 0, width: 0.25, height: 0.25, label: 7 }, // at the top edge: "2" below it at (32, 13)
  ] };

  test('digits appear above (or below) the shape\'s top-left corner, in its colour; nothing else changes', () => {
    const plain = rasterizeAnnotation(shapes, 64, 48);
    assert.deepEqual(rasterizeAnnotation(shapes, 64, 48, { numbers: false }), plain);
    const numbered = rasterizeAnnotation(shapes, 64, 48, { numbers: true });
    assert.deepEqual(diffPixels(plain, numbered), [...glyphPixels('1', 16, 18), ...glyphPixels('2', 32, 13)].sort());
    assert.deepEqual(pixel(numbered, 17, 18), [1]); // top of "1", default colour
    assert.deepEqual(pixel(numbered, 16, 18), [0]);
    assert.deepEqual(pixel(numbered, 32, 13), [7]); // top-left of "2", the shape's own label
    // Multi-digit indices, a 3-channel canvas with a palette: the glyphs take the palette colour.
    const many: Annotation = { shapes: Array.from({ length: 12 }, (_, i) => ({ type: 'point' as const, x: 0.9, y: 0.9, label: i === 11 ? 3 : 0 })) };
    const colour = rasterizeAnnotation(many, 64, 64, { numbers: true, annoType: 16, palette: 'tableau20', pointRadius: 0 });
    const base = rasterizeAnnotation(many, 64, 64, { annoType: 16, palette: 'tableau20', pointRadius: 0 });
    // Point at (58, 58): "12" is 7 px wide, clamped to x ≤ 57, above the point (top 52).
    assert.ok(glyphPixels('12', 57, 52).every((p) => diffPixels(base, colour).includes(p)));
    assert.deepEqual(pixel(colour, 58, 52), [...PALETTES.tableau20[3]]); // top of the "1" of "12"
  });

  test('prepareSample passes anno_number to the label raster (the digits reach the stream)', () => {
    const image = makeImage(64, 48, 3, () => 0);
    const annotation = JSON.stringify({ shapes: [{ type: 'rect', geometry: { x: 0.25, y: 0.5, width: 0.25, height: 0.25 } }] });
    const off = prepareSample({ image, annotation }, { annotate: 'json' });
    const on = prepareSample({ image, annotation }, { annotate: 'json', anno_number: true });
    assert.deepEqual(diffPixels(off.label!, on.label!), glyphPixels('1', 16, 18));
    assert.ok(on.labelBounds!.top <= 18, 'the warp bounds include the digits');
  });
});

describe('drawing into reused storage (the stream without a cache)', () => {
  const annotation = parseAnnotation(JSON.stringify({ shapes: [
    { type: 'rect', geometry: { x: 0.1, y: 0.2, width: 0.5, height: 0.4 }, label: 2 },
    { type: 'polygon', geometry: { points: [{ x: 0.6, y: 0.1 }, { x: 0.9, y: 0.5 }, { x: 0.7, y: 0.9 }] } },
  ] }));

  test('the label is the fresh canvas\'s, drawn over junk; the storage is used only when it fits the type', () => {
    const fresh = rasterizeAnnotation(annotation, 37, 23);
    const junk = new Uint8Array(37 * 23 + 50).fill(99);
    const reused = rasterizeAnnotation(annotation, 37, 23, { into: junk });
    assert.deepEqual(reused, fresh);
    assert.equal(reused.data.buffer, junk.buffer, 'drawn in the storage');
    assert.notEqual(rasterizeAnnotation(annotation, 37, 23, { into: new Uint8Array(10) }).data.buffer.byteLength, 10, 'too small: a fresh canvas');
    const float = rasterizeAnnotation(annotation, 37, 23, { annoType: 5, into: junk });
    assert.ok(float.data instanceof Float32Array, 'another type: a fresh canvas');
    assert.throws(() => createLabelCanvas(4, 4, 7, junk), /anno_type/);
  });

  test('prepareSample with a canvas gives the same sample', () => {
    const image = makeImage(40, 30, 3, (x, y, c) => (x * 5 + y * 7 + c * 40) & 255);
    const params = { annotate: 'json' } as const;
    const fresh = prepareSample({ image, annotation, recordIndex: 0 }, params);
    const canvas = new Uint8Array(40 * 30).fill(7);
    const reused = prepareSample({ image, annotation, recordIndex: 0 }, params, canvas);
    assert.deepEqual(reused, fresh);
    assert.equal(reused.label!.data.buffer, canvas.buffer);
  });
});
