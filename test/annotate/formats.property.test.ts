// Converter round trips: random rect/polygon/point shapes → format → back, every shape kept,
// each coordinate within a pixel (REFERENCE §2.6; issue 6 "a round trip through each keeps
// every shape (within a pixel)"). Fixed seed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { fromCoco, mergeCocoSets, toCoco } from '../../src/annotate/formats/coco.ts';
import { fromPicpacAnnotation, toPicpacAnnotation } from '../../src/annotate/formats/picpac-json.ts';
import { fromVoc, toVoc } from '../../src/annotate/formats/voc.ts';
import { fromW3c, toW3c } from '../../src/annotate/formats/w3c.ts';
import { fromYolo, toYolo } from '../../src/annotate/formats/yolo.ts';
import type { AnnotatedSet, ImageAnnotation, Shape } from '../../src/annotate/shapes.ts';

const CLASSES = ['car', 'plate', 'person', 'dog & cat <x>'];
const RUNS = { seed: 42, numRuns: 150 };

const frac = fc.double({ min: 0, max: 1, noNaN: true }).map((v) => v + 0); // no -0 (JSON has none)
const point = fc.tuple(frac, frac).map(([x, y]) => ({ x, y }));
const shapeArb = (W: number, H: number): fc.Arbitrary<Shape> =>
  fc.oneof(
    fc
      .tuple(frac, frac, frac, frac)
      .filter(([a, b, c, d]) => Math.abs(a - c) * W >= 2 && Math.abs(b - d) * H >= 2)
      .map(([a, b, c, d]) => ({ type: 'rect' as const, geometry: { x: Math.min(a, c), y: Math.min(b, d), width: Math.abs(a - c), height: Math.abs(b - d) } })),
    fc.array(point, { minLength: 3, maxLength: 12 }).map((points) => ({ type: 'polygon' as const, geometry: { points } })),
    point.map((p) => ({ type: 'point' as const, geometry: p })),
  ).chain((shape) => fc.constantFrom(...CLASSES).map((className) => ({ ...shape, className }) as Shape));

const imageArb: fc.Arbitrary<ImageAnnotation> = fc
  .record({ width: fc.integer({ min: 8, max: 4000 }), height: fc.integer({ min: 8, max: 4000 }), n: fc.nat(9999) })
  .chain(({ width, height, n }) =>
    fc.array(shapeArb(width, height), { maxLength: 6 }).map((shapes) => ({ fileName: `dir/img${n}.jpg`, width, height, shapes })),
  );
const setArb: fc.Arbitrary<AnnotatedSet> = fc
  .uniqueArray(imageArb, { minLength: 1, maxLength: 4, selector: (im) => im.fileName })
  .map((images) => ({ classes: CLASSES, images }));

/** Same shapes, same order, same classes, every coordinate within `px` pixels. */
function assertSameShapes(actual: Shape[], expected: Shape[], W: number, H: number, px = 1): void {
  assert.equal(actual.length, expected.length, 'shape count');
  expected.forEach((e, i) => {
    const a = actual[i];
    assert.equal(a.type, e.type, `shape ${i} type`);
    assert.equal(a.className, e.className, `shape ${i} class`);
    const near = (u: number, v: number, scale: number, what: string) => assert.ok(Math.abs(u - v) * scale <= px + 1e-9, `shape ${i} ${what}: ${u} vs ${v} (${(Math.abs(u - v) * scale).toFixed(3)} px)`);
    if (e.type === 'rect' && a.type === 'rect') {
      near(a.geometry.x, e.geometry.x, W, 'x');
      near(a.geometry.y, e.geometry.y, H, 'y');
      near(a.geometry.x + a.geometry.width, e.geometry.x + e.geometry.width, W, 'right');
      near(a.geometry.y + a.geometry.height, e.geometry.y + e.geometry.height, H, 'bottom');
    } else if (e.type === 'polygon' && a.type === 'polygon') {
      assert.equal(a.geometry.points.length, e.geometry.points.length);
      e.geometry.points.forEach((p, k) => {
        near(a.geometry.points[k].x, p.x, W, `point ${k} x`);
        near(a.geometry.points[k].y, p.y, H, `point ${k} y`);
      });
    } else if (e.type === 'point' && a.type === 'point') {
      near(a.geometry.x, e.geometry.x, W, 'x');
      near(a.geometry.y, e.geometry.y, H, 'y');
    }
  });
}

describe('format round trips (property, seed 42)', () => {
  test('picpac annotation JSON: exact, label = class number, tag, class kept', () => {
    fc.assert(
      fc.property(imageArb, (image) => {
        const text = toPicpacAnnotation(image.shapes, CLASSES);
        const json = JSON.parse(text);
        json.shapes.forEach((s: { label: number; class: string; tag: number }, i: number) => {
          assert.equal(s.label, CLASSES.indexOf(s.class) + 1);
          assert.equal(s.tag, i + 1);
        });
        assert.deepEqual(fromPicpacAnnotation(text, { classes: CLASSES }), image.shapes.map((s, i) => ({ ...s, tag: i + 1 })));
        // Without the class key, the numeric label alone finds the class again.
        for (const s of json.shapes) delete s.class;
        const back = fromPicpacAnnotation(JSON.stringify(json), { classes: CLASSES });
        assert.deepEqual(back.map((s) => s.className), image.shapes.map((s) => s.className));
      }),
      RUNS,
    );
  });

  test('COCO JSON', () => {
    fc.assert(
      fc.property(setArb, (set) => {
        const out = JSON.parse(JSON.stringify(toCoco(set)));
        const back = out.keypoints ? mergeCocoSets(fromCoco(out.instances), fromCoco(out.keypoints)) : fromCoco(out.instances);
        assert.equal(back.images.length, set.images.length);
        set.images.forEach((im, i) => {
          assert.equal(back.images[i].fileName, im.fileName);
          // Lone points come back after the instances (they travel in keypoints.json).
          const expected = [...im.shapes.filter((s) => s.type !== 'point'), ...im.shapes.filter((s) => s.type === 'point')];
          assertSameShapes(back.images[i].shapes, expected, im.width, im.height);
        });
      }),
      RUNS,
    );
  });

  test('Pascal VOC XML', () => {
    fc.assert(
      fc.property(imageArb, (image) => {
        const back = fromVoc(toVoc(image));
        assert.equal(back.width, image.width);
        assert.equal(back.fileName, 'img' + image.fileName.split('img')[1]);
        assertSameShapes(back.shapes, image.shapes, image.width, image.height);
      }),
      RUNS,
    );
  });

  test('YOLO txt', () => {
    fc.assert(
      fc.property(imageArb, (image) => {
        const back = fromYolo(toYolo(image, CLASSES), { classes: CLASSES });
        // A segment dataset has no points (counted by the exporter, see exchange-formats.test.ts).
        const segments = image.shapes.some((s) => s.type === 'polygon');
        assertSameShapes(back, segments ? image.shapes.filter((s) => s.type !== 'point') : image.shapes, image.width, image.height);
      }),
      RUNS,
    );
  });

  test('W3C / Annotorious JSON', () => {
    fc.assert(
      fc.property(setArb, (set) => {
        const sizes = new Map(set.images.map((im) => [im.fileName, im]));
        const back = fromW3c(JSON.parse(JSON.stringify(toW3c(set))), { sizeOf: (s) => sizes.get(s), images: set.images.map(({ fileName, width, height }) => ({ fileName, width, height })) });
        set.images.forEach((im, i) => assertSameShapes(back.images[i].shapes, im.shapes, im.width, im.height));
      }),
      RUNS,
    );
  });

  test('re-exporting what was imported gives identical output (COCO, VOC, YOLO, W3C)', () => {
    fc.assert(
      fc.property(setArb, (set) => {
        const coco = JSON.stringify(toCoco(set).instances);
        assert.equal(JSON.stringify(toCoco(fromCoco(JSON.parse(coco))).instances), coco);
        const image = set.images[0];
        const voc = toVoc(image);
        assert.equal(toVoc({ ...fromVoc(voc), fileName: image.fileName }), voc);
        const yolo = toYolo(image, CLASSES);
        assert.equal(toYolo({ shapes: fromYolo(yolo, { classes: CLASSES }) }, CLASSES), yolo);
      }),
      { seed: 42, numRuns: 60 },
    );
  });
});
