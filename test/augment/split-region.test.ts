// The region cutter (REFERENCE §1.5 picpac-split-region, object mode): one region per shape,
// object scaled to ~size px, shapes re-normalised, label images cut with the same geometry.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAnnotation } from '../../src/augment/annotation.ts';
import type { Annotation } from '../../src/augment/annotation.ts';
import type { Image } from '../../src/augment/pixels/image.ts';
import { annotationToJson, scaleStatistics, shapeBox, splitRegions } from '../../src/augment/split-region.ts';

/** 200×100 grey image: 255 inside the rect x 40..79, y 20..39 (the object), 0 elsewhere. */
function scene(): { image: Image; annotation: Annotation } {
  const width = 200;
  const height = 100;
  const data = new Uint8Array(width * height);
  for (let y = 20; y < 40; y++) for (let x = 40; x < 80; x++) data[y * width + x] = 255;
  const annotation: Annotation = {
    shapes: [
      { type: 'rect', x: 0.2, y: 0.2, width: 0.2, height: 0.2 },
      { type: 'point', x: 0.9, y: 0.9 },
    ],
  };
  return { image: { width, height, channels: 1, data }, annotation };
}

describe('splitRegions', () => {
  test('one region per shape, of the requested size; the object is scaled to ~size px, the window kept inside the image', () => {
    const { image, annotation } = scene();
    const regions = splitRegions(image, annotation, { width: 60, height: 40, size: 20 });
    assert.equal(regions.length, 2);
    const [object] = regions;
    assert.equal(object.shapeIndex, 0);
    assert.deepEqual([object.image.width, object.image.height, object.image.channels], [60, 40, 1]);
    assert.ok(Math.abs(object.scale - 0.5) < 1e-9, `scale ${object.scale}`); // the 40-px object becomes 20 px
    // Scaled image 100×50, object at x 20..39, y 10..19; the centred window (0, -5) is shifted down to (0, 0).
    assert.deepEqual(object.window, { left: 0, top: 0, width: 60, height: 40 });
    const at = (x: number, y: number) => object.image.data[y * 60 + x];
    assert.equal(at(30, 15), 255);
    assert.equal(at(2, 2), 0);
    let bright = 0;
    for (const v of object.image.data) if (v > 127) bright++;
    assert.ok(Math.abs(bright - 200) <= 30, `${bright} bright pixels`);
    // Re-normalised to the region: x 20/60, y 10/40, 20/60 × 10/40.
    const rect = object.annotation.shapes[0];
    assert.equal(rect.type, 'rect');
    if (rect.type === 'rect') {
      for (const [actual, expected] of [[rect.x, 20 / 60], [rect.y, 10 / 40], [rect.width, 20 / 60], [rect.height, 10 / 40]]) {
        assert.ok(Math.abs(actual - expected) < 1e-9, `${actual} vs ${expected}`);
      }
    }
  });

  test('only intersecting shapes are kept', () => {
    const { image, annotation } = scene();
    const [object, point] = splitRegions(image, annotation, { width: 60, height: 40, size: 20 });
    assert.equal(object.annotation.shapes.length, 1);
    assert.equal(point.annotation.shapes.length, 1);
    assert.equal(point.annotation.shapes[0].type, 'point');
  });

  test('noScale cuts at scale 1; pixels beyond the image get the background value', () => {
    const { image, annotation } = scene();
    const regions = splitRegions(image, { shapes: [annotation.shapes[0]] }, { width: 300, height: 40, noScale: true, background: 77 });
    assert.equal(regions[0].scale, 1);
    const out = regions[0].image;
    assert.equal(out.width, 300);
    assert.equal(out.data[0], 77); // left padding (the 200-px image is centred in 300)
    assert.equal(out.data[60], 0); // inside the image, background of the photo
  });

  test('a label image is cut with the same geometry, nearest neighbour (values kept)', () => {
    const { image, annotation } = scene();
    const label: Image = { width: 200, height: 100, channels: 1, data: image.data.map((v) => (v ? 3 : 0)) };
    const [object] = splitRegions(image, annotation, { width: 60, height: 40, size: 20, label });
    assert.ok(object.label);
    assert.deepEqual(new Set(object.label.data), new Set([0, 3]));
    assert.equal(object.label.data[15 * 60 + 30], 3);
  });

  test('arguments are validated', () => {
    const { image, annotation } = scene();
    assert.throws(() => splitRegions(image, annotation, { width: 0, height: 10 }), TypeError);
    assert.throws(() => splitRegions(image, annotation, { width: 10, height: 10, size: -1 }), TypeError);
    assert.throws(() => splitRegions(image, annotation, { width: 10, height: 10, label: { width: 1, height: 1, channels: 1, data: new Uint8Array(1) } }), /200x100/);
  });

  test('annotationToJson round-trips through parseAnnotation; scale statistics', () => {
    const annotation: Annotation = {
      shapes: [
        { type: 'rect', x: 0.1, y: 0.2, width: 0.3, height: 0.4, label: 2 },
        { type: 'polygon', points: [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 0, y: 1 }] },
        { type: 'ellipse', x: 0.5, y: 0.5, width: 0.1, height: 0.1, tag: 4 },
        { type: 'point', x: 0.3, y: 0.3 },
      ],
    };
    assert.deepEqual(parseAnnotation(annotationToJson(annotation)), annotation);
    assert.deepEqual(scaleStatistics([1, 2, 3]), { count: 3, min: 1, mean: 2, max: 3 });
    assert.deepEqual(shapeBox(annotation.shapes[3], 100, 100, 3), { x0: 27, y0: 27, x1: 33, y1: 33 });
  });
});
