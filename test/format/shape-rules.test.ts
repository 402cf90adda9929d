// Issue 12 item 6 (rules half): one set of geometry rules for annotation shapes, used by the
// annotator (checkShape), import and stat. The shape {"x":1.5,"width":2} breaks them.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { EDGE_TOLERANCE, annotationShapeProblem, checkAnnotationDocument, fractionProblem } from '../../src/format/shape-rules.ts';
import { checkShape } from '../../src/annotate/shapes.ts';

const rect = (geometry: Record<string, unknown>) => ({ type: 'rect', geometry });

describe('shape rules', () => {
  test('the issue\'s rect {"x":1.5,"width":2} is out of range, for import and for the annotator alike', () => {
    const shape = rect({ x: 1.5, y: 0, width: 2, height: 0.5 });
    assert.deepEqual(annotationShapeProblem(shape, 0), { shapeIndex: 0, path: 'shapes[0].geometry', problem: 'x must be a fraction in [0, 1], got 1.5' });
    assert.throws(() => checkShape(shape), /shape\.geometry: x must be a fraction in \[0, 1\], got 1\.5/);
  });

  test('finite numbers only; fractions within a small tolerance; boxes inside the image with a positive size', () => {
    assert.equal(fractionProblem(1 + EDGE_TOLERANCE / 2, 'x'), undefined);
    assert.equal(fractionProblem(-EDGE_TOLERANCE / 2, 'x'), undefined);
    assert.match(fractionProblem(1 + 2 * EDGE_TOLERANCE, 'x')!, /fraction in \[0, 1\]/);
    for (const bad of [NaN, Infinity, -Infinity, '0.5', null, undefined, 1e308]) assert.ok(fractionProblem(bad, 'x'), String(bad));
    assert.match(annotationShapeProblem(rect({ x: 0.5, y: 0, width: 0.6, height: 0.1 }), 2)!.problem, /extends past the image/);
    assert.match(annotationShapeProblem({ type: 'ellipse', geometry: { x: 0.5, y: 0, width: 0, height: 0.1 } }, 0)!.problem, /an ellipse needs a positive width and height/);
    assert.equal(annotationShapeProblem(rect({ x: 0.1, y: 0.2, width: 0.3, height: 0.4 }), 0), undefined);
  });

  test('polygons, rings, points, labels and types', () => {
    const p = (points: unknown) => ({ type: 'polygon', geometry: { points } });
    assert.equal(annotationShapeProblem(p([{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }]), 0), undefined);
    assert.match(annotationShapeProblem(p([{ x: 0, y: 0 }, { x: 1, y: 0 }]), 0)!.problem, /3\.\.10000 points, got 2/);
    assert.deepEqual(annotationShapeProblem(p([{ x: 0, y: 0 }, { x: -1e7, y: 0 }, { x: 1, y: 1 }]), 4), { shapeIndex: 4, path: 'shapes[4].geometry.points[1]', problem: 'x must be a fraction in [0, 1], got -10000000' });
    assert.match(annotationShapeProblem({ type: 'polygons', geometry: { points: [[{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 2 }]] } }, 0)!.path, /points\[0\]\[2\]/);
    assert.match(annotationShapeProblem({ type: 'point', geometry: { x: 0.5, y: 'a' } }, 0)!.problem, /y must be a finite number, got "a"/);
    assert.match(annotationShapeProblem({ type: 'circle', geometry: {} }, 0)!.problem, /type must be one of rect, ellipse, polygon, polygons, point/);
    assert.match(annotationShapeProblem({ type: 'point', label: 'x', geometry: { x: 0, y: 0 } }, 0)!.problem, /label must be a number/);
  });

  test('documents: a missing shapes list is an empty annotation; bad documents are named; only bad shapes are listed', () => {
    assert.deepEqual(checkAnnotationDocument({}), { shapeProblems: [], shapeCount: 0 });
    assert.match(checkAnnotationDocument([]).documentProblem!, /must be a JSON object/);
    assert.match(checkAnnotationDocument({ shapes: 3 }).documentProblem!, /"shapes" must be an array/);
    const check = checkAnnotationDocument({ shapes: [rect({ x: 0, y: 0, width: 1, height: 1 }), rect({ x: 1.5, y: 0, width: 2, height: 1 })] });
    assert.equal(check.shapeCount, 2);
    assert.deepEqual(check.shapeProblems.map((p) => p.shapeIndex), [1]);
  });
});
