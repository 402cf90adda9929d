// The v1 per-sample pipeline (REFERENCE §1.3.1), split where v1 cached:
//   prepareSample  = steps 1–2: channels, resize, annotation (rasterised BEFORE augmentation at
//                    the post-resize size), anno_min_ratio zoom → the cacheable { image, label }.
//   augmentSample  = steps 4–5: without perturb, centred crop-or-pad and round_div crop; with
//                    perturb, rotate → scale → colour → flip → crop → round_div in ONE geometry
//                    pass (warp.ts) plus an in-place colour pass over the output; annotate=auto.
//   transformSample = both.
// samplePerturbation draws the perturbation vector from the stream's RNG, serially, in v1 order.
import { invalidParameterError } from '../../errors.ts';
import { annotationBounds, parseAnnotation } from '../annotation.ts';
import type { Annotation } from '../annotation.ts';
import { additiveColorLut, jitterColorInPlace, parseColorSpace } from '../pixels/color.ts';
import { cloneImage, convertChannels, createImage, toFloat32 } from '../pixels/image.ts';
import type { Image, PixelArray } from '../pixels/image.ts';
import { PALETTES, rasterizeAnnotationTracked } from '../pixels/rasterize.ts';
import type { PaletteName, PixelBounds } from '../pixels/rasterize.ts';
import { resizeBilinear, resizeNearest, resizeTarget } from '../pixels/resize.ts';
import { planGeometry, warpImage, warpLabel } from '../pixels/warp.ts';
import type { GeometryPlan } from '../pixels/warp.ts';

/** The flat v1 parameter names this module reads (src/augment/config.ts owns validation/defaults). */
export interface PixelParams {
  channels?: number;
  resize_width?: number;
  resize_height?: number;
  min_size?: number;
  max_size?: number;
  crop_width?: number;
  crop_height?: number;
  round_div?: number;
  round_mod?: number;
  annotate?: '' | 'json' | 'image' | 'auto';
  anno_type?: number;
  anno_copy?: boolean;
  anno_number?: boolean;
  anno_palette?: PaletteName;
  anno_color1?: number;
  anno_color2?: number;
  anno_color3?: number;
  anno_thickness?: number;
  anno_min_ratio?: number;
  point_radius?: number;
  perturb?: boolean;
  pert_colorspace?: '' | 'BGR' | 'HSV' | 'Lab' | 'SAME';
  pert_color1?: number;
  pert_color2?: number;
  pert_color3?: number;
  pert_angle?: number;
  pert_min_scale?: number;
  pert_max_scale?: number;
  pert_hflip?: boolean;
  pert_vflip?: boolean;
}

/** The per-sample random draws (v1 PerturbVector). */
export interface Perturbation {
  hflip: boolean;
  vflip: boolean;
  /** Integer deltas for pert_color1..3, in the original's channel meaning (B, G, R / H, S, V / L, a, b). */
  color: [number, number, number];
  /** Degrees, counter-clockwise. */
  angle: number;
  scale: number;
  /** Raw u32 words for the crop offsets. */
  shiftX: number;
  shiftY: number;
}

/** What samplePerturbation needs from src/engine/rng.ts `Rng`. */
export interface RandomSource {
  /** Uniform integer in [0, 2^32). */
  nextU32(): number;
  /** Uniform float in [0, 1). */
  next(): number;
}

export const NO_PERTURBATION: Readonly<Perturbation> = Object.freeze({
  hflip: false, vflip: false, color: [0, 0, 0] as [number, number, number], angle: 0, scale: 1, shiftX: 0, shiftY: 0,
});

/**
 * Draw one perturbation vector. With `perturb` off nothing is drawn. With it on, exactly nine
 * draws are made whatever the other settings (so changing one range never shifts the others):
 * hflip, vflip, three colour deltas (integers uniform in [−trunc(v), trunc(v)]), angle (uniform
 * in [−v, v)), scale (uniform in [min, max)), then two raw words for the crop offsets.
 */
export function samplePerturbation(rng: RandomSource, params: PixelParams): Perturbation {
  if (!params.perturb) return { ...NO_PERTURBATION, color: [0, 0, 0] };
  const hflip = (rng.nextU32() & 1) === 1 && params.pert_hflip === true;
  const vflip = (rng.nextU32() & 1) === 1 && params.pert_vflip === true;
  const color: [number, number, number] = [0, 0, 0];
  const ranges = [params.pert_color1 ?? 0, params.pert_color2 ?? 0, params.pert_color3 ?? 0];
  for (let k = 0; k < 3; k++) {
    const range = Math.trunc(Math.abs(ranges[k]));
    const u = rng.next();
    color[k] = range > 0 ? Math.min(range, Math.floor(u * (2 * range + 1)) - range) : 0;
  }
  const angleRange = params.pert_angle ?? 0;
  const angle = (rng.next() * 2 - 1) * angleRange;
  const minScale = params.pert_min_scale ?? 1;
  const maxScale = params.pert_max_scale ?? 1;
  const scale = minScale + rng.next() * (maxScale - minScale);
  const shiftX = rng.nextU32() >>> 0;
  const shiftY = rng.nextU32() >>> 0;
  return { hflip, vflip, color, angle: angleRange === 0 ? 0 : angle, scale: maxScale === minScale ? minScale : scale, shiftX, shiftY };
}

export interface DecodedSample {
  /** Field 0, decoded (decode.ts), any channel count. */
  image: Image;
  /** multi_images n > 1: fields 1…n-1, decoded; they follow image 0 through every step. */
  extraImages?: Image[];
  /** annotate='image': field 1 decoded. Absent → a zero label. */
  labelImage?: Image;
  /** annotate='json': parsed shapes, or the JSON text/bytes. Absent → an empty annotation. */
  annotation?: Annotation | string | Uint8Array;
  /** Record ordinal, named in errors. */
  recordIndex?: number;
}

/** The cacheable pre-augmentation pair (v1 cache value). */
export interface PreparedSample {
  image: Image;
  /** multi_images: images 1…n-1, the same size as `image`. */
  extraImages?: Image[];
  label?: Image;
  /** Where `label` can be non-zero (a rasterised JSON annotation drawn on zeros); absent = anywhere. */
  labelBounds?: PixelBounds;
}

export interface TransformedSample {
  image: Image;
  /** multi_images: images 1…n-1 with exactly the geometry and colour jitter of `image`. */
  extraImages?: Image[];
  /** Label raster (json/image), or the image itself for annotate='auto'. */
  label?: Image;
}

/**
 * Steps 1–2: channels, load-time resize, annotation raster, anno_min_ratio zoom. Extra images
 * (multi_images) get the same channel conversion and are resized to image 0's loaded size.
 */
/**
 * @param [canvas] storage the JSON label may be drawn on (the result then aliases it): only for
 * a caller that is done with the prepared sample before it prepares the next (no cache)
 */
export function prepareSample(decoded: DecodedSample, params: PixelParams, canvas?: PixelArray): PreparedSample {
  const prepared = prepareFirst(decoded, params, canvas);
  if (decoded.extraImages === undefined || decoded.extraImages.length === 0) return prepared;
  if ((params.anno_min_ratio ?? 0) !== 0) throw invalidParameterError('anno_min_ratio', '0 with multi_images > 1', params.anno_min_ratio);
  const { width, height, channels } = prepared.image;
  const extraImages = decoded.extraImages.map((extra, k) => {
    let image = convertChannels(extra, params.channels ?? 0);
    if (image.channels !== channels) {
      throw invalidParameterError(`image field ${k + 1}`, `${channels} channels like field 0 (set channels to convert)`, `${image.channels} channels`);
    }
    if (image.width !== width || image.height !== height) image = resizeBilinear(image, width, height);
    return image;
  });
  return { ...prepared, extraImages };
}

function prepareFirst(decoded: DecodedSample, params: PixelParams, canvas: PixelArray | undefined): PreparedSample {
  let image = convertChannels(decoded.image, params.channels ?? 0);
  const target = resizeTarget(image.width, image.height, {
    resizeWidth: params.resize_width, resizeHeight: params.resize_height, minSize: params.min_size, maxSize: params.max_size,
  });
  if (target.width !== image.width || target.height !== image.height) image = resizeBilinear(image, target.width, target.height);
  const annotate = params.annotate ?? '';
  if (annotate === '' || annotate === 'auto') return { image };
  if (annotate === 'image') {
    if ((params.anno_min_ratio ?? 0) !== 0) throw invalidParameterError('anno_min_ratio', '0 with annotate="image" (v1 supports the zoom for JSON only)', params.anno_min_ratio);
    let label = decoded.labelImage ?? createImage(image.width, image.height, 1);
    const palette = params.anno_palette ?? '';
    if (palette !== '') label = paletteLabel(label, palette);
    if (label.width !== image.width || label.height !== image.height) label = resizeNearest(label, image.width, image.height);
    return { image, label };
  }
  if (annotate !== 'json') throw invalidParameterError('annotate', 'one of "", "json", "image", "auto"', annotate);
  const annotation = decoded.annotation === undefined ? { shapes: [] }
    : typeof decoded.annotation === 'string' || decoded.annotation instanceof Uint8Array
      ? parseAnnotation(decoded.annotation, { recordIndex: decoded.recordIndex })
      : decoded.annotation;
  const pointRadius = params.point_radius ?? 3;
  const { label, drawn } = rasterizeAnnotationTracked(annotation, image.width, image.height, {
    annoType: params.anno_type ?? 0,
    color: [params.anno_color1 ?? 1, params.anno_color2 ?? 0, params.anno_color3 ?? 0],
    thickness: params.anno_thickness ?? -1,
    palette: params.anno_palette ?? '',
    pointRadius,
    copyOf: params.anno_copy ? image : undefined,
    numbers: params.anno_number === true,
    into: canvas,
  });
  const zoomed = zoomToMinRatio({ image, label }, annotation, params.anno_min_ratio ?? 0, pointRadius);
  if (zoomed.label !== label || params.anno_copy) return zoomed;
  return { image, label, labelBounds: drawn ?? { left: 0, top: 0, right: 0, bottom: 0 } };
}

/** v1 anno_min_ratio: when the shapes' union box covers less than `ratio` of the image, crop around it and scale back. */
function zoomToMinRatio(sample: PreparedSample & { label: Image }, annotation: Annotation, ratio: number, pointRadius: number): PreparedSample {
  const { image, label } = sample;
  const cols = image.width;
  const rows = image.height;
  if (!(ratio > 0) || cols * rows === 0) return sample;
  const bounds = annotationBounds(annotation, { x: pointRadius / cols, y: pointRadius / rows });
  if (!bounds) return sample;
  const bx = bounds.x * cols, by = bounds.y * rows, bw = bounds.width * cols, bh = bounds.height * rows;
  const minRoi = cols * rows * ratio;
  if (bw * bh >= minRoi) return sample;
  const rate = Math.sqrt((bw * bh) / minRoi);
  const width = Math.max(1, Math.round(cols * rate));
  const height = Math.max(1, Math.round(rows * rate));
  let left = Math.round(bx) - Math.trunc((width - Math.round(bw)) / 2);
  let top = Math.round(by) - Math.trunc((height - Math.round(bh)) / 2);
  left = Math.min(Math.max(0, left), cols - width);
  top = Math.min(Math.max(0, top), rows - height);
  const region = { left, top, width, height };
  // v1 resized the label bilinearly here too; labels are never interpolated in picpac-ts.
  return { image: resizeBilinear(image, cols, rows, region), label: resizeNearest(label, cols, rows, region) };
}

function paletteLabel(label: Image, palette: Exclude<PaletteName, ''>): Image {
  if (!(label.data instanceof Uint8Array) || label.channels !== 1) {
    throw invalidParameterError('anno_palette', 'an 8-bit single-channel label image (v1: CV_8UC1)', `${label.channels}-channel ${label.data.constructor.name}`);
  }
  const table = PALETTES[palette];
  const out = createImage(label.width, label.height, 3);
  const src = label.data;
  const dst = out.data;
  for (let p = 0; p < src.length; p++) {
    const c = table[src[p] < table.length ? src[p] : 0];
    dst[p * 3] = c[0];
    dst[p * 3 + 1] = c[1];
    dst[p * 3 + 2] = c[2];
  }
  return out;
}

/** The geometry plan one sample gets: image and label share it. */
export function planSample(width: number, height: number, params: PixelParams, perturbation: Perturbation): GeometryPlan {
  const perturb = params.perturb === true;
  return planGeometry(width, height, {
    angle: perturb ? perturbation.angle : 0,
    scale: perturb ? perturbation.scale : 1,
    hflip: perturb && perturbation.hflip,
    vflip: perturb && perturbation.vflip,
    cropWidth: params.crop_width ?? -1,
    cropHeight: params.crop_height ?? -1,
    roundDiv: params.round_div ?? 0,
    roundMod: params.round_mod ?? 0,
    randomOffsets: perturb,
    shiftX: perturbation.shiftX,
    shiftY: perturbation.shiftY,
  });
}

function isIdentity(plan: GeometryPlan): boolean {
  const m = plan.inverse;
  return plan.width === plan.sourceWidth && plan.height === plan.sourceHeight &&
    m[0] === 1 && m[1] === 0 && m[2] === 0 && m[3] === 0 && m[4] === 1 && m[5] === 0;
}

/**
 * Caller-owned storage the warp may write image 0 and its label into (see WarpImageOptions.into):
 * the result then aliases it, so it is valid only until the next sample uses the same scratch.
 */
export interface AugmentScratch {
  image?: PixelArray;
  label?: PixelArray;
}

/** Steps 4–5. Never mutates `prepared` (it may be a cache entry). */
export function augmentSample(prepared: PreparedSample, params: PixelParams, perturbation: Perturbation, scratch?: AugmentScratch): TransformedSample {
  const plan = planSample(prepared.image.width, prepared.image.height, params, perturbation);
  const identity = isIdentity(plan);
  const delta = perturbation.color;
  const d0 = delta[0], d1 = delta[1], d2 = delta[2];
  const jitter = params.perturb === true && (d0 !== 0 || d1 !== 0 || d2 !== 0);
  const colorSpace = parseColorSpace(params.pert_colorspace);
  // BGR/SAME jitter on 8-bit images is a per-channel table: fused into the warp pass.
  const lut = jitter && !identity && prepared.image.data instanceof Uint8Array
    ? additiveColorLut(perturbation.color, colorSpace, prepared.image.channels) : null;
  let image = identity ? (jitter ? cloneImage(prepared.image) : prepared.image)
    : warpImage(prepared.image, plan, lut === null ? { into: scratch?.image } : { lut, into: scratch?.image });
  let label = prepared.label === undefined ? undefined : identity ? prepared.label
    : warpLabel(prepared.label, plan, prepared.labelBounds ? { sourceBounds: prepared.labelBounds, into: scratch?.label } : { into: scratch?.label });
  if (params.perturb === true && image.channels === 3 && image.data instanceof Uint16Array) image = toFloat32(image); // v1: 16UC3 → 32FC3
  if (jitter && lut === null) jitterColorInPlace(image, perturbation.color, colorSpace, plan.frame);
  if ((params.annotate ?? '') === 'auto') label = image;
  const out: TransformedSample = label === undefined ? { image } : { image, label };
  // One plan and one perturbation for all: each extra image takes the path image 0 took.
  if (prepared.extraImages !== undefined) out.extraImages = prepared.extraImages.map((extra) => augmentSample({ image: extra }, params, perturbation).image);
  return out;
}

/** The whole v1 per-sample pipeline (prepareSample then augmentSample). */
export function transformSample(decoded: DecodedSample, params: PixelParams, perturbation: Perturbation): TransformedSample {
  return augmentSample(prepareSample(decoded, params), params, perturbation);
}
