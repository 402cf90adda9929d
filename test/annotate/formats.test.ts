// Converters: bad input is a typed AnnotationInputError naming the file and the line (or JSON
// path); the format details (VOC 1-based pixels, YOLO points and polygons, W3C percent
// selectors, COCO keypoints and RLE) behave as documented.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fromCoco, toCoco } from '../../src/annotate/formats/coco.ts';
import { fromPicpacAnnotation, toPicpacAnnotation } from '../../src/annotate/formats/picpac-json.ts';
import { fromVoc, toVoc } from '../../src/annotate/formats/voc.ts';
import { fromW3c, toW3c } from '../../src/annotate/formats/w3c.ts';
import { parseXml } from '../../src/annotate/formats/xml.ts';
import { fromClassesTxt, fromDataYaml, fromYolo, toDataYaml, toYolo } from '../../src/annotate/formats/yolo.ts';
import { AnnotationInputError, checkShape, resolveClasses } from '../../src/annotate/shapes.ts';

const rejects = (fn: () => unknown, pattern: RegExp): void => {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof AnnotationInputError, `AnnotationInputError, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
    assert.match((error as Error).message, pattern);
    return true;
  });
};

describe('checkShape (server and import validation)', () => {
  test('accepts the three shapes, drops unknown keys, keeps id/class/tag', () => {
    assert.deepEqual(checkShape({ type: 'rect', id: 'a1', class: 'car', tag: 2, style: {}, geometry: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 } }), {
      id: 'a1', className: 'car', tag: 2, type: 'rect', geometry: { x: 0.1, y: 0.2, width: 0.3, height: 0.4 },
    });
    assert.equal(checkShape({ type: 'point', geometry: { x: 1, y: 0 } }).type, 'point');
    assert.equal(checkShape({ type: 'polygon', geometry: { points: [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }] } }).type, 'polygon');
  });
  test('rejects what would corrupt an export, naming the field', () => {
    rejects(() => checkShape(null), /shape: must be an object, got null/);
    rejects(() => checkShape({ type: 'circle', geometry: {} }), /type must be one of rect, ellipse, polygon, polygons, point, rle, got "circle"/);
    rejects(() => checkShape({ type: 'rect', geometry: { x: 0.5, y: 0, width: 0, height: 0.1 } }), /positive width and height/);
    rejects(() => checkShape({ type: 'rect', geometry: { x: 0.5, y: 0, width: 0.6, height: 0.1 } }), /extends past the image/);
    rejects(() => checkShape({ type: 'rect', geometry: { x: '0.5', y: 0, width: 0.1, height: 0.1 } }), /shape\.geometry: x must be a finite number, got "0\.5"/);
    rejects(() => checkShape({ type: 'point', geometry: { x: 1.5, y: 0 } }), /x must be a fraction in \[0, 1\], got 1\.5/);
    rejects(() => checkShape({ type: 'polygon', geometry: { points: [{ x: 0, y: 0 }] } }), /a polygon needs 3\.\.10000 points, got 1/);
    rejects(() => checkShape({ type: 'polygon', geometry: { points: [{ x: 0, y: 0 }, 3, { x: 1, y: 1 }] } }), /points\[1\]: must be an object/);
    rejects(() => checkShape({ type: 'point', id: '../x y', geometry: { x: 0, y: 0 } }), /id must be 1\.\.64 characters/);
    rejects(() => checkShape({ type: 'point', class: '', geometry: { x: 0, y: 0 } }), /class must be a non-empty string/);
    rejects(() => checkShape({ type: 'point', tag: 1.5, geometry: { x: 0, y: 0 } }), /tag must be an integer/);
    rejects(() => checkShape({ type: 'point' }), /geometry must be an object/);
  });
  test('resolveClasses: declared classes first, then met names, then the default for unnamed shapes', () => {
    const set = { classes: ['b'], images: [{ fileName: 'x', width: 1, height: 1, shapes: [{ type: 'point' as const, geometry: { x: 0, y: 0 }, className: 'c' }, { type: 'point' as const, geometry: { x: 0, y: 0 } }] }] };
    assert.deepEqual(resolveClasses(set, { needDefault: true }), ['b', 'c', 'object']);
    assert.deepEqual(resolveClasses(set, { needDefault: false }), ['b', 'c']);
  });
});

describe('picpac annotation JSON', () => {
  test('Owl-style shapes without label or class read as unnamed; a missing list is empty (v1)', () => {
    const owl = '{"shapes":[{"type":"rect","geometry":{"x":0.605,"y":0.591,"width":0.105,"height":0.083},"style":{}}]}';
    const [shape] = fromPicpacAnnotation(owl);
    assert.equal(shape.className, undefined);
    assert.deepEqual(fromPicpacAnnotation('{}'), []);
    assert.equal(toPicpacAnnotation([{ type: 'point', geometry: { x: 0.5, y: 0.5 } }], []), '{"shapes":[{"type":"point","geometry":{"x":0.5,"y":0.5},"tag":1}]}');
  });
  test('an unknown numeric label gets its number as the name only when asked', () => {
    const text = '{"shapes":[{"type":"point","label":7,"geometry":{"x":0.5,"y":0.5}}]}';
    assert.equal(fromPicpacAnnotation(text, { classes: ['a'] })[0].className, undefined);
    assert.equal(fromPicpacAnnotation(text, { nameUnknownLabels: true })[0].className, '7');
  });
  test('errors name the file and record', () => {
    rejects(() => fromPicpacAnnotation('{"shapes":', { file: 'a.picpac', recordIndex: 3 }), /^a\.picpac#3: annotation is not valid JSON/);
    rejects(() => fromPicpacAnnotation('[1]', { file: 'a.picpac' }), /^a\.picpac: annotation must be a JSON object/);
    rejects(() => fromPicpacAnnotation('{"shapes":{}}', { file: 'a' }), /"shapes" must be an array/);
    rejects(() => fromPicpacAnnotation('{"shapes":[{"type":"circle","geometry":{}}]}', { file: 'a', recordIndex: 0 }), /^a#0: shapes\[0\]: type must be one of/);
  });
});

describe('COCO', () => {
  const base = () => ({ images: [{ id: 7, file_name: 'a.jpg', width: 100, height: 50 }], categories: [{ id: 3, name: 'car' }], annotations: [] as unknown[] });
  test('bbox, a two-ring polygon is ONE instance, keypoints (unlabelled skipped), RLE kept as a mask', () => {
    const doc = base();
    doc.annotations.push(
      { id: 1, image_id: 7, category_id: 3, bbox: [10, 5, 20, 10] },
      { id: 2, image_id: 7, category_id: 3, bbox: [0, 0, 1, 1], segmentation: [[0, 0, 10, 0, 10, 10], [50, 25, 60, 25, 60, 30]] },
      { id: 3, image_id: 7, category_id: 3, bbox: [0, 0, 0, 0], keypoints: [50, 25, 2, 1, 1, 0], num_keypoints: 1 },
      { id: 4, image_id: 7, category_id: 3, bbox: [20, 10, 40, 20], segmentation: { counts: [0, 5000], size: [50, 100] }, iscrowd: 1 },
    );
    const set = fromCoco(doc);
    assert.deepEqual(set.classes, ['car']);
    assert.deepEqual(set.coco, { car: { id: 3 } });
    assert.deepEqual(set.images[0].shapes.map((s) => s.type), ['rect', 'polygons', 'point', 'rle']);
    assert.deepEqual(set.images[0].shapes[0].geometry, { x: 0.1, y: 0.1, width: 0.2, height: 0.2 });
    assert.deepEqual(set.images[0].shapes[2].geometry, { x: 0.5, y: 0.5 });
    assert.equal(set.images[0].shapes[3].crowd, true);
  });
  test('a point is a one-keypoint annotation in keypoints.json, in a category that names it; never in the instances', () => {
    const coco = toCoco({ classes: ['a', 'b'], images: [{ fileName: 'x.jpg', width: 10, height: 10, shapes: [{ type: 'point', className: 'b', geometry: { x: 0.5, y: 0.25 } }] }] });
    assert.equal(coco.instances.annotations.length, 0);
    assert.deepEqual(coco.keypoints!.annotations[0].keypoints, [5, 2.5, 2]);
    assert.equal(coco.keypoints!.annotations[0].category_id, 2);
    assert.deepEqual(coco.keypoints!.categories, [{ id: 2, name: 'b', supercategory: '', keypoints: ['b'], skeleton: [] }]);
    assert.deepEqual(coco.instances.categories.map((c) => c.id), [1, 2]);
  });
  test('bad documents name the file and the JSON path', () => {
    rejects(() => fromCoco([], { file: 'c.json' }), /^c\.json: \$: a COCO file must be a JSON object/);
    rejects(() => fromCoco({ images: [], categories: [] }, { file: 'c.json' }), /c\.json: annotations: "annotations" must be an array/);
    const d1 = base();
    d1.annotations.push({ id: 1, image_id: 8, category_id: 3, bbox: [0, 0, 1, 1] });
    rejects(() => fromCoco(d1, { file: 'c.json' }), /c\.json: annotations\[0\]: image_id 8 is not in "images"/);
    const d2 = base();
    d2.annotations.push({ id: 1, image_id: 7, category_id: 9, bbox: [0, 0, 1, 1] });
    rejects(() => fromCoco(d2), /category_id 9 is not in "categories"/);
    const d3 = base();
    d3.annotations.push({ id: 1, image_id: 7, category_id: 3, bbox: [0, 0, 0, 1] });
    rejects(() => fromCoco(d3), /annotations\[0\]\.bbox: bbox width and height must be positive/);
    const d4 = base();
    d4.annotations.push({ id: 1, image_id: 7, category_id: 3, segmentation: [[0, 0, 1]] });
    rejects(() => fromCoco(d4), /segmentation\[0\]: a segmentation ring must be a flat list/);
    const d5 = base();
    d5.images.push({ id: 7, file_name: 'b.jpg', width: 1, height: 1 });
    rejects(() => fromCoco(d5), /images\[1\]: duplicate image id 7/);
    const d6 = base();
    d6.images[0].width = 0;
    rejects(() => fromCoco(d6), /positive integer width and height/);
    rejects(() => fromCoco({ ...base(), categories: [{ id: 1 }] }), /categories\[0\]: a category needs an integer id and a non-empty name/);
  });
});

describe('Pascal VOC', () => {
  test('boxes are 1-based integer pixels; verified and special characters survive', () => {
    const xml = toVoc({ fileName: 'sub/a&b.jpg', width: 100, height: 50, verified: true, shapes: [{ type: 'rect', className: 'x<y', geometry: { x: 0, y: 0.5, width: 0.5, height: 0.5 } }] });
    assert.match(xml, /<annotation verified="yes">/);
    assert.match(xml, /<filename>a&amp;b\.jpg<\/filename>/);
    assert.match(xml, /<name>x&lt;y<\/name>/);
    assert.match(xml, /<bndbox><xmin>1<\/xmin><ymin>26<\/ymin><xmax>50<\/xmax><ymax>50<\/ymax><\/bndbox>/);
    const back = fromVoc(xml);
    assert.equal(back.verified, true);
    assert.equal(back.fileName, 'a&b.jpg');
    assert.deepEqual(back.shapes[0], { className: 'x<y', type: 'rect', geometry: { x: 0, y: 0.5, width: 0.5, height: 0.5 } });
  });
  test('a LabelImg file (no polygon or point elements) reads as boxes', () => {
    const labelImg = `<annotation>\n<folder>imgs</folder><filename>c.png</filename>\n<size><width>640</width><height>480</height><depth>3</depth></size>\n<!-- comment -->\n<object><name>dog</name><difficult>0</difficult><bndbox><xmin>65</xmin><ymin>49</ymin><xmax>128</xmax><ymax>96</ymax></bndbox></object>\n</annotation>`;
    const image = fromVoc(labelImg);
    assert.deepEqual(image.shapes[0].geometry, { x: 64 / 640, y: 48 / 480, width: 64 / 640, height: 48 / 480 });
  });
  test('errors name the file and line', () => {
    rejects(() => fromVoc('<annotation>\n<size>\n</annotation>', { file: 'a.xml' }), /^a\.xml: line 3: closing tag <\/annotation> does not match <size>/);
    rejects(() => fromVoc('<annotation>\n<filename>a</filename>\n</annotation>', { file: 'a.xml' }), /a\.xml: line 1: <size> is missing/);
    rejects(() => fromVoc('<annotation><filename>a</filename><size><width>x</width><height>2</height></size></annotation>', { file: 'a.xml' }), /<width> must be a number, got "x"/);
    rejects(() => fromVoc('<annotation><filename>a</filename><size><width>4</width><height>2</height></size>\n<object><name>a</name></object></annotation>', { file: 'a.xml' }), /line 2: <object> needs a <bndbox>/);
    rejects(() => fromVoc('<annotation><filename>a</filename><size><width>4</width><height>2</height></size><object><name>a</name><polygon><x1>1</x1><y1>1</y1></polygon></object></annotation>'), /<polygon> needs at least 3 points/);
    rejects(() => fromVoc('<annotation><filename>a</filename><size><width>4</width><height>2</height></size><object><name>a</name><bndbox><xmin>3</xmin><ymin>1</ymin><xmax>2</xmax><ymax>2</ymax></bndbox></object></annotation>'), /max must not be below min/);
    rejects(() => fromVoc('<voc/>'), /root element must be <annotation>, got <voc>/);
    rejects(() => parseXml('<a>&bogus;</a>', 'f.xml'), /f\.xml: line 1: unknown entity &bogus;/);
    rejects(() => parseXml('<a></a><b/>'), /more than one root element/);
    rejects(() => parseXml('<a>'), /<a> is not closed/);
    rejects(() => parseXml('<a x=1></a>'), /malformed attributes in <a>/);
    assert.equal(parseXml('<?xml version="1.0"?><!DOCTYPE a><a t="&#65;&#x42;"><![CDATA[<raw>]]></a>').text, '<raw>');
  });
});

describe('YOLO', () => {
  test('box dataset: box and point (zero-size box); segment dataset: a rect is its 4 corners; empty file = negative', () => {
    const rect = { type: 'rect', className: 'b', geometry: { x: 0.25, y: 0.25, width: 0.5, height: 0.5 } } as const;
    const point = { type: 'point', className: 'a', geometry: { x: 0.5, y: 0.5 } } as const;
    const boxes = toYolo({ shapes: [rect, point] }, ['a', 'b']);
    assert.equal(boxes, '1 0.5 0.5 0.5 0.5\n0 0.5 0.5 0 0\n');
    assert.deepEqual(fromYolo(boxes, { classes: ['a', 'b'] }).map((s) => s.type), ['rect', 'point']);
    const text = toYolo({ shapes: [
      rect,
      { type: 'polygon', className: 'a', geometry: { points: [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 1, y: 1 }] } },
    ] }, ['a', 'b']);
    assert.equal(text, '1 0.25 0.25 0.75 0.25 0.75 0.75 0.25 0.75\n0 0 0 1 0 1 1\n');
    assert.deepEqual(fromYolo(text, { classes: ['a', 'b'] }).map((s) => s.type), ['rect', 'polygon']);
    assert.deepEqual(fromYolo('', { classes: [] }), []);
    assert.equal(toYolo({ shapes: [] }, ['a']), '');
    assert.throws(() => toYolo({ shapes: [{ type: 'point', className: 'zz', geometry: { x: 0, y: 0 } }] }, ['a']), RangeError);
  });
  test('errors name the file and line', () => {
    rejects(() => fromYolo('0 0.5 0.5 0.1 0.1\nx 0.5 0.5 0.1 0.1', { classes: ['a'], file: 'l.txt' }), /^l\.txt: line 2: class id must be a non-negative integer, got "x"/);
    rejects(() => fromYolo('3 0.5 0.5 0.1 0.1', { classes: ['a'], file: 'l.txt' }), /line 1: class id 3 is not in the class list \(1 classes\)/);
    rejects(() => fromYolo('0 0.5 1.5 0.1 0.1', { classes: ['a'] }), /value 3 must be a normalised number in \[0, 1\], got "1\.5"/);
    rejects(() => fromYolo('0 0.5 0.5 0.1', { classes: ['a'] }), /got 3 numbers after the class/);
    rejects(() => fromYolo('0 0.5 0.5 0 0.1', { classes: ['a'] }), /a box needs a positive width and height/);
  });
  test('class lists: classes.txt and the three data.yaml forms', () => {
    assert.deepEqual(fromClassesTxt('car\n\nplate\r\n'), ['car', 'plate']);
    assert.deepEqual(fromDataYaml('path: x\nnames:\n  0: car\n  1: "plate: eu"\nnc: 2\n'), ['car', 'plate: eu']);
    assert.deepEqual(fromDataYaml('names:\n  - car\n  - \'it\'\'s\'\n'), ['car', "it's"]);
    assert.deepEqual(fromDataYaml('names: [car, plate]\n'), ['car', 'plate']);
    assert.deepEqual(fromDataYaml(toDataYaml(['a "b"', 'c'])), ['a "b"', 'c']);
    rejects(() => fromDataYaml('nc: 2\n', 'd.yaml'), /d\.yaml: no "names:" entry/);
    rejects(() => fromDataYaml('names:\n  0: a\n  2: c\n', 'd.yaml'), /leaves a class id without a name/);
    rejects(() => fromDataYaml('names:\n  what\n', 'd.yaml'), /line 2: cannot read this "names" entry/);
  });
});

describe('W3C / Annotorious', () => {
  test('rect and point as xywh=pixel fragments, polygon as an SvgSelector, class as a tagging body', () => {
    const list = toW3c({ classes: [], images: [{ fileName: 'a.jpg', width: 200, height: 100, shapes: [
      { id: 's1', type: 'rect', className: 'car', geometry: { x: 0.1, y: 0.2, width: 0.5, height: 0.5 } },
      { type: 'polygon', geometry: { points: [{ x: 0, y: 0 }, { x: 1, y: 0 }, { x: 0.5, y: 1 }] } },
      { type: 'point', geometry: { x: 0.5, y: 0.5 } },
    ] }] });
    assert.equal(list[0].id, 's1');
    assert.deepEqual(list[0].body, [{ type: 'TextualBody', purpose: 'tagging', value: 'car' }]);
    assert.equal(list[0].target.selector.value, 'xywh=pixel:20,20,100,50');
    assert.equal(list[1].target.selector.value, '<svg><polygon points="0,0 200,0 100,100"></polygon></svg>');
    assert.equal(list[2].target.selector.value, 'xywh=pixel:100,50,0,0');
  });
  test('percent selectors need no image size; an object with `items` is accepted', () => {
    const set = fromW3c({ items: [{ id: 'q', target: { source: 'b.jpg', selector: { type: 'FragmentSelector', value: 'xywh=percent:10,20,30,40' } } }] }, { sizeOf: () => ({ width: 10, height: 10 }) });
    const g = set.images[0].shapes[0].geometry as { x: number; y: number; width: number; height: number };
    for (const [k, v] of Object.entries({ x: 0.1, y: 0.2, width: 0.3, height: 0.4 })) assert.ok(Math.abs(g[k as keyof typeof g] - v) < 1e-12, k);
  });
  test('errors name the file and JSON path', () => {
    const none = { sizeOf: () => undefined, file: 'w.json' };
    rejects(() => fromW3c(5, none), /^w\.json: \$: expected a JSON list of annotations/);
    rejects(() => fromW3c([{ target: {} }], none), /w\.json: \[0\]\.target\.source: target\.source must name the image/);
    rejects(() => fromW3c([{ target: { source: 'a', selector: { value: 'xywh=pixel:1,1,1,1' } } }], none), /\[0\]\.target\.source: size of image "a" is unknown/);
    rejects(() => fromW3c([{ target: { source: 'a', selector: { value: 'bogus' } } }], none), /FragmentSelector value must be xywh=/);
    rejects(() => fromW3c([{ target: { source: 'a', selector: { type: 'SvgSelector', value: '<svg><path d=""/></svg>' } } }], none), /SvgSelector must hold a <polygon/);
    rejects(() => fromW3c([{ target: { source: 'a', selector: { value: 'xywh=percent:1,1,-1,1' } } }], none), /positive width and height/);
  });
});
