// COCO run-length encoded masks (pycocotools maskApi.c, documented in pycocotools/mask.py):
// a binary mask of height h × width w read in COLUMN-major order (pixel (x, y) is at x·h + y),
// stored as run lengths that alternate 0s and 1s, starting with a (possibly empty) run of 0s.
// `counts` is either that number list ("uncompressed RLE", used in JSON for iscrowd regions) or
// pycocotools' compressed string: each run, minus the run two places before it (from the 4th
// run on), as a signed number in 5-bit groups, low group first; a group is one character
// 48 + (bits | 0x20 when more groups follow), and the last group's 0x10 bit is the sign.
// Arithmetic instead of bit operators: runs can pass 2^31 on large images.

export interface CocoRle {
  /** [height, width] of the mask (COCO order). */
  size: [number, number];
  counts: number[] | string;
}

/** Decode pycocotools' compressed counts string to run lengths. Throws RangeError on a malformed string. */
export function rleCountsFromString(text: string): number[] {
  const counts: number[] = [];
  let p = 0;
  while (p < text.length) {
    let x = 0;
    let k = 0;
    let more = true;
    while (more) {
      if (p >= text.length) throw new RangeError('compressed RLE counts end inside a number');
      const c = text.charCodeAt(p) - 48;
      if (c < 0 || c > 63) throw new RangeError(`compressed RLE counts: character ${JSON.stringify(text[p])} at ${p} is outside '0'..'o'`);
      x += (c % 32) * 32 ** k;
      more = c >= 32;
      p++;
      k++;
      if (!more && (c & 0x10) !== 0) x -= 32 ** k; // sign extension of the last group
    }
    if (counts.length > 2) x += counts[counts.length - 2];
    counts.push(x);
  }
  return counts;
}

/** Encode run lengths as pycocotools' compressed string (rleToString). */
export function rleCountsToString(counts: readonly number[]): string {
  let out = '';
  for (let i = 0; i < counts.length; i++) {
    let x = counts[i] - (i > 2 ? counts[i - 2] : 0);
    let more = true;
    while (more) {
      let c = ((x % 32) + 32) % 32; // low 5 bits, also for negative x
      x = Math.floor(x / 32);
      more = (c & 0x10) !== 0 ? x !== -1 : x !== 0;
      if (more) c |= 0x20;
      out += String.fromCharCode(c + 48);
    }
  }
  return out;
}

/** The run lengths of an RLE, checked: non-negative integers that add up to h·w. */
export function rleRuns(rle: CocoRle): number[] {
  const [h, w] = rle.size;
  const runs = typeof rle.counts === 'string' ? rleCountsFromString(rle.counts) : rle.counts;
  let total = 0;
  for (const r of runs) {
    if (!Number.isSafeInteger(r) || r < 0) throw new RangeError(`RLE run lengths must be non-negative integers, got ${r}`);
    total += r;
  }
  if (total !== h * w) throw new RangeError(`RLE runs add up to ${total} pixels, not ${h}×${w} = ${h * w}`);
  return runs;
}

/** Foreground pixel count (COCO `area` of an RLE). */
export function rleArea(rle: CocoRle): number {
  const runs = rleRuns(rle);
  let area = 0;
  for (let i = 1; i < runs.length; i += 2) area += runs[i];
  return area;
}

/** Tight box [x, y, width, height] in pixels (pycocotools rleToBbox); [0, 0, 0, 0] when empty. */
export function rleBbox(rle: CocoRle): [number, number, number, number] {
  const [h] = rle.size;
  const runs = rleRuns(rle);
  let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
  let at = 0;
  for (let i = 0; i < runs.length; i++) {
    if (i % 2 === 1 && runs[i] > 0) {
      const first = at;
      const last = at + runs[i] - 1;
      const xa = Math.floor(first / h);
      const xb = Math.floor(last / h);
      x0 = Math.min(x0, xa);
      x1 = Math.max(x1, xb);
      // A run across a column boundary counts as covering every row (as pycocotools' rleToBbox).
      y0 = Math.min(y0, xa === xb ? first % h : 0);
      y1 = Math.max(y1, xa === xb ? last % h : h - 1);
    }
    at += runs[i];
  }
  return Number.isFinite(x0) ? [x0, y0, x1 - x0 + 1, y1 - y0 + 1] : [0, 0, 0, 0];
}

/** Row-major mask (1 = foreground) of width × height. */
export function rleDecode(rle: CocoRle): Uint8Array {
  const [h, w] = rle.size;
  const runs = rleRuns(rle);
  const mask = new Uint8Array(h * w);
  let at = 0;
  for (let i = 0; i < runs.length; i++) {
    if (i % 2 === 1) {
      for (let j = at; j < at + runs[i]; j++) {
        const x = Math.floor(j / h);
        const y = j - x * h;
        mask[y * w + x] = 1;
      }
    }
    at += runs[i];
  }
  return mask;
}

/** Run lengths of a row-major mask (any non-zero = foreground), column-major as COCO wants. */
export function rleEncode(mask: ArrayLike<number>, width: number, height: number): number[] {
  const runs: number[] = [];
  let value = 0;
  let run = 0;
  for (let x = 0; x < width; x++) {
    for (let y = 0; y < height; y++) {
      const v = mask[y * width + x] !== 0 ? 1 : 0;
      if (v !== value) {
        runs.push(run);
        run = 0;
        value = v;
      }
      run++;
    }
  }
  runs.push(run);
  return runs;
}
