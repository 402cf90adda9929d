// The flat parameter table of the training stream: every name of the original PicPac's stream
// layer and v1 loader (REFERENCE §1.2.1, §1.2.2), plus picpac's additions (ranks, resume
// position, output dtype, grouping key). One table drives parsing, validation, help text,
// `describeConfig` and `configToQuery`, so they cannot drift apart.
//
// Defaults follow the original v1 except where `differs` says why.

export type ParamType = 'int' | 'float' | 'bool' | 'string' | 'enum' | 'list';

export interface ParamSpec {
  type: ParamType;
  default: number | boolean | string | readonly number[];
  /** Inclusive bounds for int/float, and for list elements. */
  min?: number;
  max?: number;
  /** enum: the accepted strings; int: an explicit whitelist (replaces min/max in messages). */
  values?: readonly (string | number)[];
  /** One line for help text. */
  doc: string;
  /** Where the name comes from. */
  origin: 'stream' | 'loader' | 'picpac';
  /** The original's default when ours differs, and why. */
  differs?: string;
  /** A behaviour of the original that picpac fixes (REFERENCE §1.10), same name and default. */
  changes?: string;
}

/**
 * The training stream's parameters, validated and with every default filled in: the names of
 * the original PicPac stream layer and v1 loader (snake_case, same meaning), plus picpac's
 * additions. Build one with {@link parseStreamConfig}; {@link describeConfig} lists each
 * parameter with its default and range.
 */
export interface StreamConfig {
  // stream layer (§1.2.1)
  readonly seed: number;
  readonly loop: boolean;
  readonly shuffle: boolean;
  readonly reshuffle: boolean;
  readonly stratify: boolean;
  readonly oversample: boolean;
  readonly split: number;
  readonly split_fold: number;
  readonly split_negate: boolean;
  readonly split_keys: readonly number[];
  readonly mixin: string;
  readonly mixin_group_reset: number;
  readonly mixin_group_delta: number;
  readonly mixin_max: number;
  readonly mixin_randomize: boolean;
  readonly cache: boolean;
  readonly cache_bytes: number;
  readonly preload: number;
  readonly threads: number;
  readonly memory_bytes: number;
  // v1 loader / batcher (§1.2.2)
  readonly channels: number;
  readonly decode_mode: number;
  readonly resize_width: number;
  readonly resize_height: number;
  readonly min_size: number;
  readonly max_size: number;
  readonly crop_width: number;
  readonly crop_height: number;
  readonly round_div: number;
  readonly round_mod: number;
  readonly annotate: '' | 'json' | 'image' | 'auto';
  readonly anno_type: number;
  readonly anno_copy: boolean;
  readonly anno_number: boolean;
  readonly anno_palette: '' | 'default' | 'tableau20' | 'tableau20a';
  readonly anno_color1: number;
  readonly anno_color2: number;
  readonly anno_color3: number;
  readonly anno_thickness: number;
  readonly anno_min_ratio: number;
  readonly perturb: boolean;
  readonly pert_colorspace: '' | 'HSV' | 'Lab' | 'SAME';
  readonly pert_color1: number;
  readonly pert_color2: number;
  readonly pert_color3: number;
  readonly pert_angle: number;
  readonly pert_min_scale: number;
  readonly pert_max_scale: number;
  readonly pert_hflip: boolean;
  readonly pert_vflip: boolean;
  readonly mean_color1: number;
  readonly mean_color2: number;
  readonly mean_color3: number;
  readonly onehot: number;
  readonly batch: number;
  readonly pad: boolean;
  readonly bgr2rgb: boolean;
  readonly order: 'NHWC' | 'NCHW';
  readonly point_radius: number;
  readonly multi_images: number;
  // picpac additions
  readonly group_by: 'label' | 'label2';
  readonly rank: number;
  readonly world_size: number;
  readonly resume_epoch: number;
  readonly resume_offset: number;
  readonly dtype: 'float32' | 'uint8';
}

export type StreamParamName = keyof StreamConfig;

const U16 = 65535;
const SAFE = Number.MAX_SAFE_INTEGER;

/** Every parameter, in the order of REFERENCE §1.2 (help text and query strings use this order). */
export const STREAM_PARAMS = {
  seed: { type: 'int', default: 2016, min: 0, max: SAFE, origin: 'stream', doc: 'seed of every random choice (shuffles, splits, reshuffles, perturbations); per-epoch randomness is derived from (seed, epoch)' },
  loop: { type: 'bool', default: true, origin: 'stream', doc: 'endless stream: an exhausted group rewinds; false ends the stream after one epoch' },
  shuffle: { type: 'bool', default: true, origin: 'stream', doc: 'shuffle each group once at open, before the K-fold split' },
  reshuffle: { type: 'bool', default: true, origin: 'stream', doc: 'reshuffle a group each time it rewinds (loop mode); pass p uses a seed derived from (seed, group, p)' },
  stratify: {
    type: 'bool', default: false, origin: 'stream',
    doc: 'group records by integral group value: per-group split and round-robin serving (one record per group in turn; small groups oversampled)',
    differs: 'v1 default true (aborted on float labels); false here as in HEAD: an epoch is then a permutation of the selected records, and float/regression labels need no flag',
    changes: 'quirk 4: float, negative or ≥ 2000 group values fall back to one group with a warning instead of aborting; HEAD\'s "stratified split, then pool" is not offered (stratify keeps the v1 round-robin meaning)',
  },
  oversample: { type: 'bool', default: false, origin: 'stream', doc: 'HEAD name for round-robin serving; here the same as stratify (either enables it)' },
  split: { type: 'int', default: 1, min: 1, max: 65536, origin: 'stream', doc: 'K of K-fold: each group is cut into K contiguous chunks after shuffling' },
  split_fold: { type: 'int', default: 0, min: -1, max: 65535, origin: 'stream', doc: 'chunk held out (training side); -1 with split_keys' },
  split_negate: { type: 'bool', default: false, origin: 'stream', doc: 'keep only the held-out chunk(s) (validation side)' },
  split_keys: { type: 'list', default: [], min: 0, max: 65535, origin: 'stream', doc: 'explicit chunks to keep (requires split_fold = -1)' },
  mixin: { type: 'string', default: '', origin: 'stream', doc: 'second store (path or URL) appended to the stream, e.g. background negatives' },
  mixin_group_reset: { type: 'float', default: -1, min: -1e9, max: 1e9, origin: 'stream', doc: 'if ≥ 0, every mixin record\'s group is set to this value (labels untouched)' },
  mixin_group_delta: { type: 'float', default: 0, min: -1e9, max: 1e9, origin: 'stream', doc: 'added to every mixin record\'s group (after the reset)' },
  mixin_max: { type: 'int', default: 0, min: 0, max: 4294967295, origin: 'stream', doc: 'keep at most this many mixin records (0 = all): the first ones in file order, or random ones with mixin_randomize' },
  mixin_randomize: { type: 'bool', default: false, origin: 'stream', doc: 'shuffle the mixin (seeded) before truncating to mixin_max' },
  cache: { type: 'bool', default: true, origin: 'stream', doc: 'cache the decoded, pre-augmentation sample per record (set false for large data)' },
  cache_bytes: {
    type: 'int', default: 1073741824, min: 0, max: SAFE, origin: 'picpac',
    doc: 'bound of the sample cache in bytes of pixels, shared by the workers; once full, no more samples are admitted (no eviction)',
    differs: 'the original cached every record without bound',
  },
  preload: { type: 'int', default: 256, min: 0, max: U16, origin: 'stream', doc: 'prefetch queue length in samples' },
  threads: { type: 'int', default: 0, min: 0, max: 256, origin: 'stream', doc: 'decode/augment worker threads; 0 = decode inline on the calling thread (same output)', differs: 'the original: 0 meant 4 threads' },
  memory_bytes: {
    type: 'int', default: 4294967296, min: 67108864, max: SAFE, origin: 'picpac',
    doc: 'memory budget of the stream in bytes (workers, samples in flight, batches; the cache has cache_bytes): parameters that cannot fit are refused before anything is allocated, threads and prefetch are lowered to fit (docs/hostile-input.md)',
    differs: 'the original had no bound: some parameter combinations exhausted memory',
  },

  channels: { type: 'int', default: 0, values: [-1, 0, 1, 3, 4], origin: 'loader', doc: 'output channels; ≤ 0 keeps the decoded count; 1↔3 and 4→1/3 converted' },
  decode_mode: { type: 'int', default: -1, values: [-1, 0, 1], origin: 'loader', doc: 'decode as stored (-1), gray (0) or colour (1)' },
  resize_width: {
    type: 'int', default: -1, min: -1, max: U16, origin: 'loader', doc: 'with resize_height > 0: resize to exactly W×H right after decoding (≤ 0 = off); both or neither',
    changes: 'setting only one of resize_width/resize_height is an error (the original silently ignored it)',
  },
  resize_height: { type: 'int', default: -1, min: -1, max: U16, origin: 'loader', doc: 'see resize_width' },
  min_size: { type: 'int', default: -1, min: -1, max: U16, origin: 'loader', doc: 'keep aspect; enlarge so the short side ≥ min_size (≤ 0 = off)' },
  max_size: { type: 'int', default: -1, min: -1, max: U16, origin: 'loader', doc: 'keep aspect; shrink so the long side ≤ max_size (≤ 0 = off)' },
  crop_width: { type: 'int', default: -1, min: -1, max: U16, origin: 'loader', doc: 'final fixed-size crop (or zero pad), centred, random offset with perturb; both or neither' },
  crop_height: { type: 'int', default: -1, min: -1, max: U16, origin: 'loader', doc: 'see crop_width' },
  round_div: { type: 'int', default: 0, min: 0, max: U16, origin: 'loader', doc: 'crop W and H down to k·round_div + round_mod (FCN stride alignment; 0 = off)' },
  round_mod: { type: 'int', default: 0, min: 0, max: U16, origin: 'loader', doc: 'see round_div; less than round_div' },
  annotate: { type: 'enum', default: '', values: ['', 'json', 'image', 'auto'], origin: 'loader', doc: 'label image: "" none, "json" render the annotation, "image" decode the label field, "auto" the augmented image itself' },
  anno_type: { type: 'int', default: 0, values: [0, 5, 16, 21], origin: 'loader', doc: 'OpenCV type code of the rendered label: 0 CV_8UC1, 16 CV_8UC3, 5 CV_32FC1, 21 CV_32FC3' },
  anno_copy: { type: 'bool', default: false, origin: 'loader', doc: 'render annotations onto a copy of the image (visualisation)' },
  anno_number: { type: 'bool', default: false, origin: 'loader', doc: 'draw each shape\'s 1-based index next to it, in its colour (3×5 digit font; visualisation)' },
  anno_palette: { type: 'enum', default: '', values: ['', 'default', 'tableau20', 'tableau20a'], origin: 'loader', doc: 'colour label ids with a 21-entry palette' },
  anno_color1: { type: 'float', default: 1, min: -1e9, max: 1e9, origin: 'loader', doc: 'fill value, channel 1, for shapes without their own label' },
  anno_color2: { type: 'float', default: 0, min: -1e9, max: 1e9, origin: 'loader', doc: 'fill value, channel 2' },
  anno_color3: { type: 'float', default: 0, min: -1e9, max: 1e9, origin: 'loader', doc: 'fill value, channel 3' },
  anno_thickness: { type: 'int', default: -1, min: -1, max: 1000, origin: 'loader', doc: '≤ 0 filled; > 0 outline thickness in pixels' },
  anno_min_ratio: { type: 'float', default: 0, min: 0, max: 1, origin: 'loader', doc: 'zoom so the annotations\' bounding box covers at least this fraction of the image (json only)' },
  perturb: { type: 'bool', default: false, origin: 'loader', doc: 'enable the pert_* augmentations' },
  pert_colorspace: { type: 'enum', default: '', values: ['', 'HSV', 'Lab', 'SAME'], origin: 'loader', doc: 'colour space of the colour jitter: "" BGR, "HSV", "Lab", "SAME" (one delta on all channels)' },
  pert_color1: { type: 'float', default: 0, min: 0, max: U16, origin: 'loader', doc: 'channel-1 additive jitter, an integer drawn uniformly from [-v, v]' },
  pert_color2: { type: 'float', default: 0, min: 0, max: U16, origin: 'loader', doc: 'channel-2 additive jitter' },
  pert_color3: { type: 'float', default: 0, min: 0, max: U16, origin: 'loader', doc: 'channel-3 additive jitter' },
  pert_angle: { type: 'float', default: 0, min: 0, max: 180, origin: 'loader', doc: 'rotation drawn uniformly from [-v, v] degrees' },
  pert_min_scale: { type: 'float', default: 1, min: 0.01, max: 100, origin: 'loader', doc: 'isotropic scale drawn uniformly from [min, max]' },
  pert_max_scale: { type: 'float', default: 1, min: 0.01, max: 100, origin: 'loader', doc: 'see pert_min_scale' },
  pert_hflip: { type: 'bool', default: false, origin: 'loader', doc: 'random horizontal flip (p = ½)' },
  pert_vflip: { type: 'bool', default: false, origin: 'loader', doc: 'random vertical flip (p = ½)' },
  mean_color1: { type: 'float', default: 0, min: -1e9, max: 1e9, origin: 'loader', doc: 'subtracted from image channel 1 when batching' },
  mean_color2: { type: 'float', default: 0, min: -1e9, max: 1e9, origin: 'loader', doc: 'subtracted from image channel 2' },
  mean_color3: { type: 'float', default: 0, min: -1e9, max: 1e9, origin: 'loader', doc: 'subtracted from image channel 3' },
  onehot: { type: 'int', default: 0, min: 0, max: U16, origin: 'loader', doc: '0: labels as floats; N > 0: one-hot with N classes (per image, or per pixel when annotating)' },
  batch: { type: 'int', default: 1, min: 1, max: 4096, origin: 'loader', doc: 'batch size; all samples of a batch must have the same shape' },
  pad: {
    type: 'bool', default: false, origin: 'loader',
    doc: 'when a non-looping stream ends mid-batch: return a full batch padded with repeated samples and the pad count (else a short batch)',
    changes: 'quirk 6: the original padded with uninitialised memory',
  },
  bgr2rgb: {
    type: 'bool', default: false, origin: 'loader', doc: 'output RGB instead of the original\'s BGR channel order (either order)',
    changes: 'quirk 6: the original supported it only with NCHW and aborted with NHWC',
  },
  order: {
    type: 'enum', default: 'NHWC', values: ['NHWC', 'NCHW'], origin: 'loader', doc: 'batch layout: NHWC (TensorFlow/tfjs) or NCHW',
    differs: 'v1 default "" = NCHW (Caffe); NHWC here because the consumer is TensorFlow.js, as in HEAD',
  },
  point_radius: { type: 'float', default: 3, min: 0, max: 1000, origin: 'loader', doc: 'radius in pixels of the ellipses drawn for point shapes' },
  multi_images: { type: 'int', default: 1, min: 1, max: 16, origin: 'loader', doc: 'fields 0…n-1 are images (one geometry and perturbation for all), field n the annotation; needs batch 1; images [n, H, W, C] (NCHW: [n, C, H, W]), labels [1, …]' },

  group_by: { type: 'enum', default: 'label', values: ['label', 'label2'], origin: 'picpac', doc: 'record value used as the group for stratify and the split (the original chose at write time, INDEX_LABEL2)' },
  rank: { type: 'int', default: 0, min: 0, max: U16, origin: 'picpac', doc: 'this worker\'s rank: it takes epoch offsets ≡ rank (mod world_size)' },
  world_size: { type: 'int', default: 1, min: 1, max: 65536, origin: 'picpac', doc: 'number of data-parallel workers sharing the stream (equal shares, disjoint within an epoch)' },
  resume_epoch: { type: 'int', default: 0, min: 0, max: SAFE, origin: 'picpac', doc: 'resume position: epoch (as reported by the stream\'s position())' },
  resume_offset: { type: 'int', default: 0, min: 0, max: SAFE, origin: 'picpac', doc: 'resume position: samples already taken by this rank in resume_epoch' },
  dtype: { type: 'enum', default: 'float32', values: ['float32', 'uint8'], origin: 'picpac', doc: 'pixel type of image batches (uint8 skips mean subtraction)' },
} as const satisfies { [K in StreamParamName]: ParamSpec };

export const STREAM_PARAM_NAMES = Object.keys(STREAM_PARAMS) as StreamParamName[];

/** The sampler's subset (no pixels): what `Sampler` reads from a config. */
export const SAMPLER_PARAM_NAMES = [
  'seed', 'loop', 'shuffle', 'reshuffle', 'stratify', 'oversample', 'split', 'split_fold', 'split_negate',
  'split_keys', 'mixin_group_reset', 'mixin_group_delta', 'mixin_max', 'mixin_randomize', 'rank', 'world_size',
  'resume_epoch', 'resume_offset',
] as const satisfies readonly StreamParamName[];

export type SamplerConfig = Pick<StreamConfig, (typeof SAMPLER_PARAM_NAMES)[number]>;

/**
 * Old names mapped to the parameter to use instead (used only to make the unknown-key error
 * helpful; they are never accepted). `channel_first` aborted the later v1 module; `K`/`fold`/
 * `train` are the first 2016 binding's split keys; `colorspace` is HEAD's.
 */
export const LEGACY_NAMES: Readonly<Record<string, StreamParamName>> = {
  channel_first: 'order',
  colorspace: 'bgr2rgb',
  K: 'split',
  fold: 'split_fold',
  train: 'split_negate',
  negate: 'split_negate',
};
