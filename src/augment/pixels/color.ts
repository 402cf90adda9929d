// Additive colour jitter (v1 perturbation step 3) and the colour-space conversions it needs,
// with OpenCV's 8-bit formulas: HSV with H in [0, 180) (integer forward transform with OpenCV's
// division tables), Lab with L·255/100 and a, b + 128 (sRGB gamma, D65). Adds saturate for
// integer images; float images add freely. Images are RGB(A) (see image.ts); the deltas keep
// the original's meaning: in "BGR" (or "") delta[0] is added to Blue, delta[2] to Red; in HSV
// to H, S, V; in Lab to L, a, b; "SAME" adds delta[0] to all three channels (brightness).
import { invalidParameterError } from '../../errors.ts';
import { BGR_TO_RGB_INDEX } from './image.ts';
import type { Image } from './image.ts';

export type ColorSpace = 'BGR' | 'HSV' | 'Lab' | 'SAME';

/** Output rectangle [left, right) × [top, bottom); pixels outside are left untouched. */
export interface PixelRegion {
  left: number;
  top: number;
  right: number;
  bottom: number;
}

export function parseColorSpace(value: unknown): ColorSpace {
  if (value === '' || value === undefined || value === 'BGR') return 'BGR';
  if (value === 'HSV' || value === 'Lab' || value === 'SAME') return value;
  throw invalidParameterError('pert_colorspace', 'one of "", "BGR", "HSV", "Lab", "SAME"', value);
}

// ---- 8-bit HSV (OpenCV RGB2HSV_b / HSV2RGB_b) ----------------------------------------------

const HSV_SHIFT = 12;
const SDIV = new Int32Array(256);
const HDIV180 = new Int32Array(256);
for (let i = 1; i < 256; i++) {
  SDIV[i] = Math.round((255 << HSV_SHIFT) / i);
  HDIV180[i] = Math.round((180 << HSV_SHIFT) / (6 * i));
}

/** One RGB pixel → OpenCV 8-bit H (0..179), S, V, written at out[o..o+2]. */
function rgbToHsv8(r: number, g: number, b: number, out: Uint8Array | Int32Array, o: number): void {
  let v = r > g ? r : g;
  if (b > v) v = b;
  let vmin = r < g ? r : g;
  if (b < vmin) vmin = b;
  const diff = v - vmin;
  const s = (diff * SDIV[v] + (1 << (HSV_SHIFT - 1))) >> HSV_SHIFT;
  let h: number;
  if (v === r) h = g - b;
  else if (v === g) h = b - r + 2 * diff;
  else h = r - g + 4 * diff;
  h = (h * HDIV180[diff] + (1 << (HSV_SHIFT - 1))) >> HSV_SHIFT;
  if (h < 0) h += 180;
  out[o] = h;
  out[o + 1] = s;
  out[o + 2] = v;
}

const SECTOR = [[1, 3, 0], [1, 0, 2], [3, 0, 1], [0, 2, 1], [0, 1, 3], [2, 1, 0]] as const;
const TAB = new Float64Array(4);

/** Float HSV (h in "hue units" where hueRange is a full turn, s, v in [0, 1]) → RGB in [0, 1] at out[o..]. */
function hsvToRgbUnit(h: number, s: number, v: number, hueRange: number, out: Float64Array, o: number): void {
  if (s === 0) {
    out[o] = out[o + 1] = out[o + 2] = v;
    return;
  }
  h *= 6 / hueRange;
  h -= Math.floor(h / 6) * 6; // wrap into [0, 6), like OpenCV
  let sector = Math.floor(h);
  h -= sector;
  if (sector >= 6) {
    sector = 0;
    h = 0;
  }
  TAB[0] = v;
  TAB[1] = v * (1 - s);
  TAB[2] = v * (1 - s * h);
  TAB[3] = v * (1 - s * (1 - h));
  const sec = SECTOR[sector];
  // OpenCV's table yields B, G, R; we write R, G, B.
  out[o + 2] = TAB[sec[0]];
  out[o + 1] = TAB[sec[1]];
  out[o] = TAB[sec[2]];
}

// ---- Lab (OpenCV RGB2Lab / Lab2RGB, sRGB gamma, D65) ----------------------------------------

const XN = 0.950456;
const ZN = 1.088754;
const M_RGB2XYZ = [0.412453, 0.35758, 0.180423, 0.212671, 0.71516, 0.072169, 0.019334, 0.119193, 0.950227];
const M_XYZ2RGB = [3.240479, -1.53715, -0.498535, -0.969256, 1.875991, 0.041556, 0.055648, -0.204043, 1.057311];
const GAMMA_ENCODE_STEPS = 8192;
// Tabulated over [0, 1] (X/Xn, Y, Z/Zn stay in it for RGB in [0, 1]) with linear interpolation:
// error < 1e-5, ≈ 4× faster than Math.cbrt per call.
const LAB_F_STEPS = 4096;

interface LabTables {
  /** sRGB 8-bit value → linear [0, 1]. */
  gammaDecode8: Float64Array;
  /** Linear [0, 1] in GAMMA_ENCODE_STEPS steps → sRGB [0, 1]. */
  gammaEncode: Float64Array;
  /** labFExact over [0, 1] in LAB_F_STEPS steps (+ one past the end). */
  labF: Float64Array;
}

let labTablesBuilt: LabTables | undefined;

/**
 * The Lab tables, built on first use: ~12,000 pow and cbrt calls (and their compilation) that a
 * thread which never converts to Lab — every stream worker without Lab jitter — would otherwise
 * pay when this module loads.
 */
function labTables(): LabTables {
  if (labTablesBuilt !== undefined) return labTablesBuilt;
  const gammaDecode8 = new Float64Array(256);
  for (let i = 0; i < 256; i++) gammaDecode8[i] = srgbToLinear(i / 255);
  const gammaEncode = new Float64Array(GAMMA_ENCODE_STEPS + 1);
  for (let i = 0; i <= GAMMA_ENCODE_STEPS; i++) gammaEncode[i] = linearToSrgb(i / GAMMA_ENCODE_STEPS);
  const labF = new Float64Array(LAB_F_STEPS + 2);
  for (let i = 0; i <= LAB_F_STEPS + 1; i++) labF[i] = labFExact(i / LAB_F_STEPS);
  labTablesBuilt = { gammaDecode8, gammaEncode, labF };
  return labTablesBuilt;
}

function srgbToLinear(x: number): number {
  return x <= 0.04045 ? x / 12.92 : Math.pow((x + 0.055) / 1.055, 2.4);
}
function linearToSrgb(x: number): number {
  return x <= 0.0031308 ? x * 12.92 : 1.055 * Math.pow(x, 1 / 2.4) - 0.055;
}
function labFExact(t: number): number {
  return t > 0.008856 ? Math.cbrt(t) : 7.787 * t + 16 / 116;
}
function labF(t: number, table: Float64Array): number {
  if (!(t >= 0 && t < 1)) return labFExact(t);
  const x = t * LAB_F_STEPS;
  const i = x | 0;
  return table[i] + (table[i + 1] - table[i]) * (x - i);
}

/** Linear [0, 1] → the 8-bit sRGB value, through the tabulated gamma. */
function encode8(linear: number, gammaEncode: Float64Array): number {
  return Math.round(gammaEncode[Math.round(linear * GAMMA_ENCODE_STEPS)] * 255);
}

/** Linear RGB in [0, 1] → L (0..100), a, b at out[o..] (table: labTables().labF). */
function linearRgbToLab(r: number, g: number, b: number, out: Float64Array, o: number, table: Float64Array): void {
  const x = (M_RGB2XYZ[0] * r + M_RGB2XYZ[1] * g + M_RGB2XYZ[2] * b) / XN;
  const y = M_RGB2XYZ[3] * r + M_RGB2XYZ[4] * g + M_RGB2XYZ[5] * b;
  const z = (M_RGB2XYZ[6] * r + M_RGB2XYZ[7] * g + M_RGB2XYZ[8] * b) / ZN;
  const fy = labF(y, table);
  out[o] = y > 0.008856 ? 116 * fy - 16 : 903.3 * y;
  out[o + 1] = 500 * (labF(x, table) - fy);
  out[o + 2] = 200 * (fy - labF(z, table));
}

/** L, a, b → linear RGB clamped to [0, 1] at out[o..]. */
function labToLinearRgb(l: number, a: number, bb: number, out: Float64Array, o: number): void {
  let y: number;
  let fy: number;
  if (l <= 8) {
    y = l / 903.3;
    fy = 7.787 * y + 16 / 116;
  } else {
    fy = (l + 16) / 116;
    y = fy * fy * fy;
  }
  const fx = fy + a / 500;
  const fz = fy - bb / 200;
  const x = XN * (fx > 0.206893 ? fx * fx * fx : (fx - 16 / 116) / 7.787);
  const z = ZN * (fz > 0.206893 ? fz * fz * fz : (fz - 16 / 116) / 7.787);
  for (let k = 0; k < 3; k++) {
    const v = M_XYZ2RGB[3 * k] * x + M_XYZ2RGB[3 * k + 1] * y + M_XYZ2RGB[3 * k + 2] * z;
    out[o + k] = v < 0 ? 0 : v > 1 ? 1 : v;
  }
}

const SCRATCH = new Float64Array(3);

function clamp8(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : v;
}

// ---- whole-image conversions (used by tests and by the float jitter path) -------------------

/** RGB → HSV. 8-bit: OpenCV's H/2 encoding; float: H in degrees, S in [0, 1], V unchanged. */
export function rgbToHsv(image: Image): Image {
  return convertPixels(
    image,
    (src, i, out, o) => rgbToHsv8(src[i], src[i + 1], src[i + 2], out as Uint8Array, o),
    (src, i, out, o) => {
      const r = src[i], g = src[i + 1], b = src[i + 2];
      const v = Math.max(r, g, b);
      const diff = v - Math.min(r, g, b);
      const s = v === 0 ? 0 : diff / v;
      let h = 0;
      if (diff > 0) {
        if (v === r) h = (60 * (g - b)) / diff;
        else if (v === g) h = 120 + (60 * (b - r)) / diff;
        else h = 240 + (60 * (r - g)) / diff;
        if (h < 0) h += 360;
      }
      out[o] = h;
      out[o + 1] = s;
      out[o + 2] = v;
    },
  );
}

/** HSV → RGB, the inverse of rgbToHsv for the same sample type. */
export function hsvToRgb(image: Image): Image {
  return convertPixels(
    image,
    (src, i, out, o) => {
      hsvToRgbUnit(src[i], src[i + 1] / 255, src[i + 2] / 255, 180, SCRATCH, 0);
      for (let k = 0; k < 3; k++) out[o + k] = Math.round(SCRATCH[k] * 255);
    },
    (src, i, out, o) => {
      hsvToRgbUnit(src[i], src[i + 1], 1, 360, SCRATCH, 0);
      for (let k = 0; k < 3; k++) out[o + k] = SCRATCH[k] * src[i + 2];
    },
  );
}

/** RGB → Lab. 8-bit: L·255/100, a + 128, b + 128 (rounded, saturated); float: input in [0, 1]. */
export function rgbToLab(image: Image): Image {
  const { gammaDecode8, labF: table } = labTables();
  return convertPixels(
    image,
    (src, i, out, o) => {
      linearRgbToLab(gammaDecode8[src[i]], gammaDecode8[src[i + 1]], gammaDecode8[src[i + 2]], SCRATCH, 0, table);
      out[o] = clamp8(Math.round((SCRATCH[0] * 255) / 100));
      out[o + 1] = clamp8(Math.round(SCRATCH[1] + 128));
      out[o + 2] = clamp8(Math.round(SCRATCH[2] + 128));
    },
    (src, i, out, o) => {
      linearRgbToLab(srgbToLinear(src[i]), srgbToLinear(src[i + 1]), srgbToLinear(src[i + 2]), SCRATCH, 0, table);
      out.set(SCRATCH, o);
    },
  );
}

/** Lab → RGB, the inverse of rgbToLab for the same sample type. */
export function labToRgb(image: Image): Image {
  const { gammaEncode } = labTables();
  return convertPixels(
    image,
    (src, i, out, o) => {
      labToLinearRgb((src[i] * 100) / 255, src[i + 1] - 128, src[i + 2] - 128, SCRATCH, 0);
      for (let k = 0; k < 3; k++) out[o + k] = encode8(SCRATCH[k], gammaEncode);
    },
    (src, i, out, o) => {
      labToLinearRgb(src[i], src[i + 1], src[i + 2], SCRATCH, 0);
      for (let k = 0; k < 3; k++) out[o + k] = linearToSrgb(SCRATCH[k]);
    },
  );
}

/** Reads the pixel at `src[i..]`, writes 3 samples at `out[o..]`. */
type PixelConversion = (src: Image['data'], i: number, out: Uint8Array | Float32Array, o: number) => void;

/** A 3-channel image of the same sample type (8-bit or float; alpha dropped), converted pixel by pixel. */
function convertPixels(image: Image, convert8: PixelConversion, convertFloat: PixelConversion): Image {
  requireColour(image);
  const src = image.data;
  const pixelCount = image.width * image.height;
  const is8 = src instanceof Uint8Array;
  const out = is8 ? new Uint8Array(pixelCount * 3) : new Float32Array(pixelCount * 3);
  const convert = is8 ? convert8 : convertFloat;
  for (let p = 0, i = 0; p < pixelCount; p++, i += image.channels) convert(src, i, out, p * 3);
  return { width: image.width, height: image.height, channels: 3, data: out };
}

function requireColour(image: Image): void {
  if (image.channels < 3) throw invalidParameterError('image.channels', '3 or 4 (a colour image)', image.channels);
}

// ---- the jitter ------------------------------------------------------------------------------

/**
 * Add the v1 colour perturbation in place (only inside `region`, default the whole image).
 * `delta` = the three integer deltas drawn for pert_color1..3, in the original's order.
 * Grey images get delta[0] only (cv::Mat += Scalar on one channel); alpha is never changed.
 * 16-bit images must be converted to float32 first for colour images (v1 did; see sample-transform).
 */
export function jitterColorInPlace(image: Image, delta: readonly [number, number, number], colorSpace: ColorSpace = 'BGR', region?: PixelRegion): Image {
  const r = region ?? { left: 0, top: 0, right: image.width, bottom: image.height };
  const ch = image.channels;
  if (ch < 3) {
    addPerChannel(image, [delta[0], 0, 0, 0], r);
    return image;
  }
  if (colorSpace === 'BGR' || colorSpace === 'SAME') {
    const d = colorSpace === 'SAME' ? [delta[0], delta[0], delta[0]] : delta;
    const rgb = [0, 0, 0, 0];
    for (let k = 0; k < 3; k++) rgb[BGR_TO_RGB_INDEX[k]] = d[k];
    addPerChannel(image, rgb, r);
    return image;
  }
  if (delta[0] === 0 && delta[1] === 0 && delta[2] === 0 && !(image.data instanceof Float32Array)) {
    return image; // an integer round trip through HSV/Lab is lossy; skip it when nothing is added
  }
  if (image.data instanceof Uint8Array) {
    if (colorSpace === 'HSV') hsvJitter8(image.data, image.width, ch, delta, r);
    else labJitter8(image.data, image.width, ch, delta, r);
  } else {
    floatSpaceJitter(image, delta, colorSpace, r);
  }
  return image;
}

/**
 * For 8-bit images and the additive spaces ("BGR", "SAME", or any space on grey images): the
 * jitter as a per-channel value map (channel k, value v → lut[k·256 + v]) that warpImage can
 * fuse into its pass. null when the space needs a colour conversion (HSV, Lab on colour images).
 */
export function additiveColorLut(delta: readonly [number, number, number], colorSpace: ColorSpace, channels: number): Uint8Array | null {
  const perChannel = [0, 0, 0, 0];
  if (channels < 3) perChannel[0] = delta[0];
  else if (colorSpace === 'BGR' || colorSpace === 'SAME') {
    const d = colorSpace === 'SAME' ? [delta[0], delta[0], delta[0]] : delta;
    for (let k = 0; k < 3; k++) perChannel[BGR_TO_RGB_INDEX[k]] = d[k];
  } else return null;
  const lut = new Uint8Array(channels * 256);
  for (let k = 0; k < channels; k++) {
    const add = Math.round(perChannel[k]);
    for (let v = 0; v < 256; v++) lut[(k << 8) + v] = clamp8(v + add);
  }
  return lut;
}

function addPerChannel(image: Image, d: readonly number[], r: PixelRegion): void {
  const { data, channels: ch, width } = image;
  if (data instanceof Uint8Array || data instanceof Uint16Array) {
    const max = data instanceof Uint8Array ? 255 : 65535;
    if (data instanceof Uint8Array) {
      // One 256-entry table per channel: a lookup per sample in the hot loop.
      const luts = [0, 1, 2, 3].map((k) => {
        const lut = new Uint8Array(256);
        for (let v = 0; v < 256; v++) lut[v] = clamp8(v + Math.round(d[k] ?? 0));
        return lut;
      });
      const [l0, l1, l2] = luts;
      for (let y = r.top; y < r.bottom; y++) {
        const end = (y * width + r.right) * ch;
        if (ch === 3) {
          for (let i = (y * width + r.left) * 3; i < end; i += 3) {
            data[i] = l0[data[i]];
            data[i + 1] = l1[data[i + 1]];
            data[i + 2] = l2[data[i + 2]];
          }
        } else {
          for (let i = (y * width + r.left) * ch; i < end; i += ch) {
            for (let k = 0; k < ch && k < 3; k++) data[i + k] = luts[k][data[i + k]];
          }
        }
      }
      return;
    }
    for (let y = r.top; y < r.bottom; y++) {
      const end = (y * width + r.right) * ch;
      for (let i = (y * width + r.left) * ch; i < end; i += ch) {
        for (let k = 0; k < ch && k < 3; k++) {
          const v = data[i + k] + Math.round(d[k]);
          data[i + k] = v < 0 ? 0 : v > max ? max : v;
        }
      }
    }
    return;
  }
  for (let y = r.top; y < r.bottom; y++) {
    const end = (y * width + r.right) * ch;
    for (let i = (y * width + r.left) * ch; i < end; i += ch) {
      for (let k = 0; k < ch && k < 3; k++) data[i + k] += d[k];
    }
  }
}

/** 8-bit HSV jitter, inlined: OpenCV's integer RGB→HSV, saturating add, float HSV→RGB. */
function hsvJitter8(data: Uint8Array, width: number, ch: number, delta: readonly number[], r: PixelRegion): void {
  const [dh, ds, dv] = delta;
  const half = 1 << (HSV_SHIFT - 1);
  for (let y = r.top; y < r.bottom; y++) {
    const end = (y * width + r.right) * ch;
    for (let i = (y * width + r.left) * ch; i < end; i += ch) {
      const red = data[i], green = data[i + 1], blue = data[i + 2];
      let v = red > green ? red : green;
      if (blue > v) v = blue;
      let vmin = red < green ? red : green;
      if (blue < vmin) vmin = blue;
      const diff = v - vmin;
      let s = (diff * SDIV[v] + half) >> HSV_SHIFT;
      let h = v === red ? green - blue : v === green ? blue - red + 2 * diff : red - green + 4 * diff;
      h = (h * HDIV180[diff] + half) >> HSV_SHIFT;
      if (h < 0) h += 180;
      // Saturating 8-bit add; H may leave [0, 180) and wraps in the inverse, as in OpenCV.
      h += dh; h = h < 0 ? 0 : h > 255 ? 255 : h;
      s += ds; s = s < 0 ? 0 : s > 255 ? 255 : s;
      v += dv; v = v < 0 ? 0 : v > 255 ? 255 : v;
      if (s === 0) {
        data[i] = data[i + 1] = data[i + 2] = v;
        continue;
      }
      let hh = (h * 6) / 180;
      hh -= Math.floor(hh / 6) * 6;
      const sector = Math.floor(hh);
      const frac = hh - sector;
      const sat = s / 255;
      const p = v * (1 - sat) + 0.5;
      const q = v * (1 - sat * frac) + 0.5;
      const t = v * (1 - sat * (1 - frac)) + 0.5;
      const vv = v + 0.5;
      let rr: number, gg: number, bb: number;
      switch (sector) {
        case 0: rr = vv; gg = t; bb = p; break;
        case 1: rr = q; gg = vv; bb = p; break;
        case 2: rr = p; gg = vv; bb = t; break;
        case 3: rr = p; gg = q; bb = vv; break;
        case 4: rr = t; gg = p; bb = vv; break;
        default: rr = vv; gg = p; bb = q; break;
      }
      data[i] = rr | 0;
      data[i + 1] = gg | 0;
      data[i + 2] = bb | 0;
    }
  }
}

function labJitter8(data: Uint8Array, width: number, ch: number, delta: readonly number[], r: PixelRegion): void {
  const [dl, da, db] = delta;
  const { gammaDecode8, gammaEncode, labF: table } = labTables();
  for (let y = r.top; y < r.bottom; y++) {
    const end = (y * width + r.right) * ch;
    for (let i = (y * width + r.left) * ch; i < end; i += ch) {
      linearRgbToLab(gammaDecode8[data[i]], gammaDecode8[data[i + 1]], gammaDecode8[data[i + 2]], SCRATCH, 0, table);
      const l = clamp8(Math.round((SCRATCH[0] * 255) / 100) + dl);
      const a = clamp8(Math.round(SCRATCH[1] + 128) + da);
      const b = clamp8(Math.round(SCRATCH[2] + 128) + db);
      labToLinearRgb((l * 100) / 255, a - 128, b - 128, SCRATCH, 0);
      data[i] = encode8(SCRATCH[0], gammaEncode);
      data[i + 1] = encode8(SCRATCH[1], gammaEncode);
      data[i + 2] = encode8(SCRATCH[2], gammaEncode);
    }
  }
}

/** Float images: OpenCV's float HSV (H degrees, S 0..1) / Lab (input 0..1) conversions, no saturation. */
function floatSpaceJitter(image: Image, delta: readonly number[], space: 'HSV' | 'Lab', r: PixelRegion): void {
  const data = image.data;
  const ch = image.channels;
  const round = data instanceof Uint16Array;
  for (let y = r.top; y < r.bottom; y++) {
    const end = (y * image.width + r.right) * ch;
    for (let i = (y * image.width + r.left) * ch; i < end; i += ch) {
      const px: Image = { width: 1, height: 1, channels: 3, data: Float32Array.of(data[i], data[i + 1], data[i + 2]) };
      const conv = space === 'HSV' ? rgbToHsv(px) : rgbToLab(px);
      for (let k = 0; k < 3; k++) conv.data[k] += delta[k];
      const back = space === 'HSV' ? hsvToRgb(conv) : labToRgb(conv);
      for (let k = 0; k < 3; k++) data[i + k] = round ? Math.round(back.data[k]) : back.data[k];
    }
  }
}
