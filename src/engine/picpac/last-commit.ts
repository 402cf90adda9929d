// The last valid commit of a file whose end is not a valid footer: a writer is appending, or one
// died mid-append, or the end was damaged. Every commit ends with a footer frame that names its
// own offset ([FTR-4]), so the newest footer frame f with footerOffset = f, found by searching
// backwards for its fixed 8-byte header prefix, ends a prefix of the file that is a complete
// file of an earlier generation (appends never rewrite a byte, [WRT-3]). Readers open that
// prefix, as SQLite and LMDB readers see the last committed transaction after a crash.
import { UnfinishedFileError } from '../../errors.ts';
import { decodeFooterFrame } from '../../format/footer.ts';
import { FOOTER, FRAME_MAGIC, FrameKind } from '../../format/layout.ts';
import type { ByteSource } from '../sources/byte-source.ts';

/** magic (LE), kind 4, flags 0, payloadByteLength 48 (LE): the first 8 bytes of every footer frame. */
const FOOTER_PREFIX = Uint8Array.of(FRAME_MAGIC & 0xff, FRAME_MAGIC >> 8, FrameKind.footer, 0, FOOTER.frameByteLength - 16, 0, 0, 0);
const WINDOW_BYTES = 1 << 20;

/**
 * Offset of the newest valid footer frame that ends at or before `beforeEnd` (exclusive of a
 * footer ending exactly at the file end when `skipLast`), or undefined when there is none.
 * Reads the file backwards in 1 MiB windows: cost proportional to the uncommitted tail.
 */
export async function findLastFooter(source: ByteSource, firstFrame: number, beforeEnd: number): Promise<number | undefined> {
  let windowEnd = beforeEnd;
  while (windowEnd - firstFrame >= FOOTER.frameByteLength) {
    const windowStart = Math.max(firstFrame, windowEnd - WINDOW_BYTES);
    // Overlap by a footer's length so a footer straddling two windows is seen whole.
    const readEnd = Math.min(beforeEnd, windowEnd + FOOTER.frameByteLength);
    const bytes = await source.read(windowStart, readEnd - windowStart);
    for (let i = Math.min(bytes.length, windowEnd - windowStart) - 1; i >= 0; i--) {
      if (bytes[i] !== FOOTER_PREFIX[0] || !hasPrefixAt(bytes, i)) continue;
      const at = windowStart + i;
      if (at + FOOTER.frameByteLength > beforeEnd) continue;
      try {
        const footerBytes = i + FOOTER.frameByteLength <= bytes.length ? bytes.subarray(i, i + FOOTER.frameByteLength) : await source.read(at, FOOTER.frameByteLength);
        decodeFooterFrame(footerBytes, at); // CRCs, kind, and footerOffset = its own offset
        return at;
      } catch (err) {
        if (!(err instanceof UnfinishedFileError)) throw err;
      }
    }
    windowEnd = windowStart;
  }
  return undefined;
}

function hasPrefixAt(bytes: Uint8Array, i: number): boolean {
  if (i + FOOTER_PREFIX.length > bytes.length) return false;
  for (let k = 1; k < FOOTER_PREFIX.length; k++) if (bytes[i + k] !== FOOTER_PREFIX[k]) return false;
  return true;
}
