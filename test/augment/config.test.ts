// Stream parameters (REFERENCE §1.2.1, §1.2.2 + picpac additions): every name accepted with a
// valid value, defaults, string coercion from URLs and CLI flags, exact error sentences for
// unknown names, wrong types, out-of-range values and cross-field rules, query round trip.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closestParameter,
  configToQuery,
  defaultStreamConfig,
  describeConfig,
  describeStreamParameters,
  editDistance,
  isStreamConfig,
  parseStreamConfig,
} from '../../src/augment/config.ts';
import { STREAM_PARAMS, STREAM_PARAM_NAMES, type ParamSpec } from '../../src/augment/config-schema.ts';

const REFERENCE_NAMES = (
  'seed loop shuffle reshuffle stratify oversample split split_fold split_negate split_keys mixin mixin_group_reset ' +
  'mixin_group_delta mixin_max mixin_randomize cache preload threads perturb channels decode_mode resize_width resize_height ' +
  'min_size max_size crop_width crop_height round_div round_mod annotate anno_type anno_copy anno_number anno_palette ' +
  'anno_color1 anno_color2 anno_color3 anno_thickness anno_min_ratio pert_colorspace pert_color1 pert_color2 pert_color3 ' +
  'pert_angle pert_min_scale pert_max_scale pert_hflip pert_vflip mean_color1 mean_color2 mean_color3 onehot batch pad ' +
  'bgr2rgb order point_radius multi_images'
).split(' ');
const ADDED_NAMES = ['cache_bytes', 'group_by', 'rank', 'world_size', 'resume_epoch', 'resume_offset', 'dtype', 'memory_bytes'];

/** A valid value different from the default, plus partners needed by cross-field rules. */
function validSample(name: string, spec: ParamSpec): Record<string, unknown> {
  switch (name) {
    case 'split_fold': return { split: 5, split_fold: 4 };
    case 'split_negate': return { split: 5, split_negate: true };
    case 'split_keys': return { split: 5, split_fold: -1, split_keys: [1, 3] };
    case 'crop_width': case 'crop_height': return { crop_width: 224, crop_height: 200 };
    case 'resize_width': case 'resize_height': return { resize_width: 320, resize_height: 240 };
    case 'round_mod': return { round_div: 32, round_mod: 1 };
    case 'pert_min_scale': return { pert_min_scale: 0.5 };
    case 'pert_max_scale': return { pert_max_scale: 2 };
    case 'rank': return { rank: 3, world_size: 4 };
    case 'world_size': return { world_size: 8 };
  }
  switch (spec.type) {
    case 'bool': return { [name]: !spec.default };
    case 'string': return { [name]: 'other.picpac' };
    case 'enum': return { [name]: spec.values!.find((v) => v !== spec.default) };
    case 'list': return { [name]: [1] };
    case 'int': return { [name]: spec.values ? spec.values.find((v) => v !== spec.default) : spec.default === spec.max ? spec.min : (spec.default as number) + 1 };
    case 'float': return { [name]: (spec.default as number) === spec.max ? spec.min : Math.min(spec.max!, (spec.default as number) + 0.5) };
  }
}

describe('stream config schema', () => {
  test('has every REFERENCE §1.2.1/§1.2.2 name plus the picpac additions, nothing else', () => {
    assert.deepEqual([...STREAM_PARAM_NAMES].sort(), [...REFERENCE_NAMES, ...ADDED_NAMES].sort());
    for (const name of STREAM_PARAM_NAMES) {
      const spec: ParamSpec = STREAM_PARAMS[name];
      assert.ok(spec.doc.length > 10, `${name} has a doc line`);
      assert.equal(spec.origin === 'picpac', ADDED_NAMES.includes(name), `${name} origin`);
    }
  });

  test('defaults: the table values, frozen; documented differences from the original', () => {
    const config = defaultStreamConfig();
    for (const name of STREAM_PARAM_NAMES) assert.deepEqual(config[name], STREAM_PARAMS[name].default, name);
    assert.ok(Object.isFrozen(config));
    assert.ok(Object.isFrozen(config.split_keys));
    assert.equal(config.stratify, false);
    assert.equal(config.order, 'NHWC');
    assert.equal(config.seed, 2016);
    assert.equal(config.loop, true);
    assert.ok(STREAM_PARAMS.stratify.differs.includes('v1 default true'));
    assert.ok(STREAM_PARAMS.order.differs.includes('NCHW'));
    assert.ok(isStreamConfig(config));
    assert.equal(parseStreamConfig(config), config);
    assert.equal(isStreamConfig({ ...config }), false);
  });

  test('every parameter accepts a valid non-default value (object, query string and CLI forms)', () => {
    for (const name of STREAM_PARAM_NAMES) {
      const sample = validSample(name, STREAM_PARAMS[name]);
      const config = parseStreamConfig(sample);
      for (const [key, value] of Object.entries(sample)) assert.deepEqual(config[key as keyof typeof config], value, key);
      const fromQuery = parseStreamConfig(new URLSearchParams(configToQuery(config)));
      assert.deepEqual(fromQuery, config, `${name} via query`);
      const cli = Object.entries(sample).flatMap(([k, v]) => [`--${k}`, Array.isArray(v) ? v.join(',') : String(v)]);
      assert.deepEqual(parseStreamConfig(cli), config, `${name} via CLI`);
    }
  });
});

describe('parseStreamConfig coercion', () => {
  test('booleans from 1/0/true/false (any case), numbers from numeric strings', () => {
    const c = parseStreamConfig({ loop: '0', shuffle: 'FALSE', pad: '1', perturb: 'True', cache: 0, bgr2rgb: 1, batch: ' 32 ', seed: '1e3', pert_angle: '7.5' });
    assert.equal(c.loop, false);
    assert.equal(c.shuffle, false);
    assert.equal(c.pad, true);
    assert.equal(c.perturb, true);
    assert.equal(c.cache, false);
    assert.equal(c.bgr2rgb, true);
    assert.equal(c.batch, 32);
    assert.equal(c.seed, 1000);
    assert.equal(c.pert_angle, 7.5);
  });

  test('URLSearchParams: lists from repeated keys and commas; last value wins otherwise', () => {
    const c = parseStreamConfig(new URLSearchParams('split=7&split_fold=-1&split_keys=5,1&split_keys=3&batch=4&batch=8'));
    assert.deepEqual(c.split_keys, [1, 3, 5]);
    assert.equal(c.batch, 8);
    assert.deepEqual(parseStreamConfig(new URLSearchParams('split_keys=')).split_keys, []);
  });

  test('CLI pairs: --name value, --name=value, hyphens, bare boolean flags', () => {
    const c = parseStreamConfig(['--batch', '16', '--pad', '--split=4', '--split-fold', '2', '--loop', 'false', '--pert-hflip']);
    assert.equal(c.batch, 16);
    assert.equal(c.pad, true);
    assert.equal(c.split, 4);
    assert.equal(c.split_fold, 2);
    assert.equal(c.loop, false);
    assert.equal(c.pert_hflip, true);
    assert.throws(() => parseStreamConfig(['batch', '3']), { name: 'TypeError', message: 'Expected --name value pairs for stream arguments but received "batch" of type string' });
    assert.throws(() => parseStreamConfig(['--batch']), { name: 'TypeError', message: 'Expected a value after --batch for batch but received undefined of type undefined' });
    assert.throws(() => parseStreamConfig(['--pad', 'maybe']), { name: 'TypeError', message: 'Expected --name value pairs for stream arguments but received "maybe" of type string' });
  });

  test('undefined values are absent; duplicate split_keys are removed and sorted', () => {
    const c = parseStreamConfig({ batch: undefined, split: 6, split_fold: -1, split_keys: [4, 1, 4] });
    assert.equal(c.batch, 1);
    assert.deepEqual(c.split_keys, [1, 4]);
  });
});

describe('parseStreamConfig errors (exact text)', () => {
  test('unknown names suggest the closest valid name or the replacement of a legacy name', () => {
    const cases: [string, string][] = [
      ['pert_angel', 'Unknown stream parameter "pert_angel"; did you mean "pert_angle"?'],
      ['batch_size', 'Unknown stream parameter "batch_size"; did you mean "batch"?'],
      ['Shuffle', 'Unknown stream parameter "Shuffle"; did you mean "shuffle"?'],
      ['channel_first', 'Unknown stream parameter "channel_first"; did you mean "order"?'],
      ['colorspace', 'Unknown stream parameter "colorspace"; did you mean "bgr2rgb"?'],
      ['negate', 'Unknown stream parameter "negate"; did you mean "split_negate"?'],
      ['xyzzy_quux_frob', 'Unknown stream parameter "xyzzy_quux_frob"'],
    ];
    for (const [key, message] of cases) {
      assert.throws(() => parseStreamConfig({ [key]: 1 }), { name: 'TypeError', message });
    }
    assert.throws(() => parseStreamConfig(new URLSearchParams('pert_angel=3')), {
      message: 'Unknown stream parameter "pert_angel"; did you mean "pert_angle"?',
    });
    assert.throws(() => parseStreamConfig(['--pert-angel', '3']), {
      message: 'Unknown stream parameter "pert-angel"; did you mean "pert_angle"?',
    });
    assert.equal(closestParameter('bach'), 'batch');
    assert.equal(editDistance('kitten', 'sitting'), 3);
  });

  test('wrong types are TypeErrors, out-of-range values RangeErrors, showing the value received', () => {
    const cases: [Record<string, unknown>, string, string][] = [
      [{ batch: 0 }, 'RangeError', 'Expected integer between 1 and 4096 for batch but received 0 of type number'],
      [{ batch: '0' }, 'RangeError', 'Expected integer between 1 and 4096 for batch but received "0" of type string'],
      [{ batch: 2.5 }, 'RangeError', 'Expected integer between 1 and 4096 for batch but received 2.5 of type number'],
      [{ batch: 'x' }, 'TypeError', 'Expected integer between 1 and 4096 for batch but received "x" of type string'],
      [{ batch: '' }, 'TypeError', 'Expected integer between 1 and 4096 for batch but received "" of type string'],
      [{ batch: '0x10' }, 'TypeError', 'Expected integer between 1 and 4096 for batch but received "0x10" of type string'],
      [{ batch: null }, 'TypeError', 'Expected integer between 1 and 4096 for batch but received null of type object'],
      [{ loop: 'yes' }, 'TypeError', 'Expected boolean for loop but received "yes" of type string'],
      [{ loop: 2 }, 'TypeError', 'Expected boolean for loop but received 2 of type number'],
      [{ mixin: 3 }, 'TypeError', 'Expected string for mixin but received 3 of type number'],
      [{ order: 'nhwc' }, 'RangeError', 'Expected one of "NHWC", "NCHW" for order but received "nhwc" of type string'],
      [{ order: 1 }, 'TypeError', 'Expected one of "NHWC", "NCHW" for order but received 1 of type number'],
      [{ annotate: 'xml' }, 'RangeError', 'Expected one of "", "json", "image", "auto" for annotate but received "xml" of type string'],
      [{ channels: 2 }, 'RangeError', 'Expected one of -1, 0, 1, 3, 4 for channels but received 2 of type number'],
      [{ pert_angle: 200 }, 'RangeError', 'Expected number between 0 and 180 for pert_angle but received 200 of type number'],
      [{ pert_angle: Number.NaN }, 'RangeError', 'Expected number between 0 and 180 for pert_angle but received null of type number'],
      [{ mean_color1: Infinity }, 'RangeError', 'Expected number between -1000000000 and 1000000000 for mean_color1 but received null of type number'],
      [{ split_keys: 'a,b' }, 'TypeError', 'Expected list of integers between 0 and 65535 for split_keys but received "a,b" of type string'],
      [{ split_keys: [1.5] }, 'RangeError', 'Expected list of integers between 0 and 65535 for split_keys but received [1.5] of type object'],
      [{ split_keys: { a: 1 } }, 'TypeError', 'Expected list of integers between 0 and 65535 for split_keys but received {"a":1} of type object'],
      [{ seed: -1 }, 'RangeError', 'Expected integer between 0 and 9007199254740991 for seed but received -1 of type number'],
      [{ dtype: 'int32' }, 'RangeError', 'Expected one of "float32", "uint8" for dtype but received "int32" of type string'],
    ];
    for (const [input, name, message] of cases) assert.throws(() => parseStreamConfig(input), { name, message }, JSON.stringify(input));
    assert.throws(() => parseStreamConfig(42 as never), {
      name: 'TypeError',
      message: 'Expected object, URLSearchParams or list of --name value strings for stream config but received 42 of type number',
    });
  });

  test('cross-field rules', () => {
    const cases: [Record<string, unknown> | URLSearchParams, string, string][] = [
      [{ crop_width: 224 }, 'RangeError', 'Expected integer between 1 and 65535 when crop_width is set (both or neither) for crop_height but received -1 of type number'],
      [{ crop_height: 224 }, 'RangeError', 'Expected integer between 1 and 65535 when crop_height is set (both or neither) for crop_width but received -1 of type number'],
      [{ resize_width: 100, resize_height: 0 }, 'RangeError', 'Expected integer between 1 and 65535 when resize_width is set (both or neither) for resize_height but received 0 of type number'],
      [{ split: 5, split_fold: 5 }, 'RangeError', 'Expected integer between -1 and 4 for split_fold but received 5 of type number'],
      [new URLSearchParams('split=5&split_fold=7'), 'RangeError', 'Expected integer between -1 and 4 for split_fold but received "7" of type string'],
      [{ split_fold: 2 }, 'RangeError', 'Expected 0 when split is 1 for split_fold but received 2 of type number'],
      [{ split_negate: true }, 'TypeError', 'Expected false when split is 1 for split_negate but received true of type boolean'],
      [{ split_keys: [0] }, 'RangeError', 'Expected empty list when split is 1 for split_keys but received [0] of type object'],
      [{ split: 5, split_keys: [1] }, 'RangeError', 'Expected -1 when split_keys is given for split_fold but received 0 of type number'],
      [{ split: 5, split_fold: -1 }, 'TypeError', 'Expected non-empty list of integers between 0 and 4 when split_fold is -1 for split_keys but received [] of type object'],
      [{ split: 5, split_fold: -1, split_keys: '1,5' }, 'RangeError', 'Expected list of integers between 0 and 4 for split_keys but received "1,5" of type string'],
      [{ pert_min_scale: 1.5 }, 'RangeError', 'Expected number at most pert_max_scale (1) for pert_min_scale but received 1.5 of type number'],
      [{ rank: 4, world_size: 4 }, 'RangeError', 'Expected integer between 0 and 3 for rank but received 4 of type number'],
      [{ rank: 1 }, 'RangeError', 'Expected integer between 0 and 0 for rank but received 1 of type number'],
      [{ round_mod: 3 }, 'RangeError', 'Expected 0 when round_div is 0 for round_mod but received 3 of type number'],
      [{ round_div: 8, round_mod: 8 }, 'RangeError', 'Expected integer between 0 and 7 for round_mod but received 8 of type number'],
      [{ min_size: 600, max_size: 500 }, 'RangeError', 'Expected integer at most max_size (500) for min_size but received 600 of type number'],
    ];
    for (const [input, name, message] of cases) assert.throws(() => parseStreamConfig(input), { name, message }, String(JSON.stringify(input)));
    // the legal neighbours of those rules
    assert.doesNotThrow(() => parseStreamConfig({ crop_width: 224, crop_height: 224, split: 5, split_fold: -1, split_keys: [0, 4], pert_min_scale: 0.8, pert_max_scale: 0.8, rank: 3, world_size: 4, round_div: 8, round_mod: 7, min_size: 500, max_size: 500 }));
  });
});

describe('configToQuery / describeConfig', () => {
  test('configToQuery lists only non-default keys in table order and round-trips', () => {
    assert.equal(configToQuery(defaultStreamConfig()), '');
    const config = parseStreamConfig({ batch: 32, loop: false, split: 5, split_fold: -1, split_keys: [3, 1], order: 'NCHW', mixin: 'a b.picpac' });
    assert.equal(configToQuery(config), 'loop=false&split=5&split_fold=-1&split_keys=1%2C3&mixin=a+b.picpac&batch=32&order=NCHW');
    assert.deepEqual(parseStreamConfig(new URLSearchParams(configToQuery(config))), config);
  });

  test('describeConfig names the non-default parameters with their defaults and docs', () => {
    assert.equal(describeConfig(defaultStreamConfig()), `stream config: 0 of ${STREAM_PARAM_NAMES.length} parameters differ from the defaults`);
    const text = describeConfig(parseStreamConfig({ batch: 8 }));
    assert.equal(
      text,
      `stream config: 1 of ${STREAM_PARAM_NAMES.length} parameters differ from the defaults\n` +
        '  batch = 8  (default 1): batch size; all samples of a batch must have the same shape',
    );
    const help = describeStreamParameters();
    assert.equal(help.split('\n').length, STREAM_PARAM_NAMES.length);
    assert.ok(help.includes('batch (int, default 1; integer between 1 and 4096): batch size'));
  });
});
