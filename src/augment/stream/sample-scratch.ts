// Where one sample's pixels live on the stream's hot path: the decoded image and the warped
// image are written into storage reused from sample to sample — regions of the warp kernels'
// WebAssembly memory when the kernels are available. The kernels then read the decoded pixels
// and write the warped ones in place, and the batch conversion reads them there: three copies of
// the image per sample (into the kernels' memory, out of it, and in again for the float32
// conversion) are saved, which matters most with two threads sharing the memory bandwidth.
//
// Layout of the memory: [0, 64) kernel constants | decode region | warp region | free space
// the kernels use after their input (float32 batch output ≤ 4 × the warp region, colour table).
// Regions grow when an image did not fit (the next sample gets the bigger layout); growing the
// memory detaches old views, so the layout changes only at a sample's start (prepare()), when
// no pixels live in it. Without the kernels the same storage is plain typed arrays.
import { heapViews } from '../pixels/warp-simd.ts';

const MIN_DECODE_BYTES = 256 * 256 * 3;

function align64(n: number): number {
  return (n + 63) & ~63;
}

export class SampleScratch {
  /** Decoded pixels of field 0 (valid while the sample that took it runs). */
  decode: Uint8Array | undefined;
  /** Warped image 0 (valid until the next sample's warp). */
  warp: Uint8Array | undefined;
  private decodeBytes = MIN_DECODE_BYTES;
  private warpBytes = 2 * MIN_DECODE_BYTES;
  private stale = true;

  /** Lay the regions out if a size changed; call only when no sample's pixels live in them. */
  prepare(): void {
    if (!this.stale) return;
    this.stale = false;
    const decodeAt = 64;
    const warpAt = align64(decodeAt + this.decodeBytes + 16);
    // After the warp region: the float32 conversion of a warped (or decoded) image and the colour table.
    const total = align64(warpAt + this.warpBytes + 16) + 4 * Math.max(this.warpBytes, this.decodeBytes) + 1024;
    const views = heapViews([[decodeAt, this.decodeBytes], [warpAt, this.warpBytes]], total);
    [this.decode, this.warp] = views ?? [new Uint8Array(this.decodeBytes), new Uint8Array(this.warpBytes)];
  }

  /** A decoded image of `bytes` bytes did not fit: make room from the next sample on. */
  decodedTooBig(bytes: number): void {
    if (bytes <= this.decodeBytes) return;
    this.decodeBytes = Math.ceil(bytes * 1.25);
    this.warpBytes = Math.max(this.warpBytes, 2 * this.decodeBytes);
    this.stale = true;
  }

  /** A warped image of `bytes` bytes did not fit: make room from the next sample on. */
  warpedTooBig(bytes: number): void {
    if (bytes <= this.warpBytes) return;
    this.warpBytes = Math.ceil(bytes * 1.25);
    this.stale = true;
  }
}
