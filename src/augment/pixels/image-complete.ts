// The stream's guard against half-decoded images: decoders fill the missing part of a truncated
// or damaged JPEG with grey and at most warn (@napi-rs/image does not even warn), so a broken
// record would train as a half-grey picture. Before decoding, the container structure is walked
// (src/format/image-structure.ts: JPEG segments and scans to EOI, PNG chunks to IEND, WebP/BMP
// lengths; 0.2 % of the decode time of a 1024×640 photo) and a broken image becomes an IncompleteImageError — a
// FormatError naming the record and byte offset — which onError 'throw' raises and 'skip' counts.
import { FormatError } from '../../errors.ts';
import { checkImageStructure } from '../../format/image-structure.ts';
import type { ImageCodecCode } from '../../format/layout.ts';

/** An encoded image whose structure is cut short or damaged (it would decode partly grey). */
export class IncompleteImageError extends FormatError {
  readonly truncated: boolean;
  constructor(problem: string, details: { byteOffset: number; recordIndex?: number; truncated: boolean }) {
    super(`${problem}; the image would decode with missing rows`, { section: 'image', byteOffset: details.byteOffset, recordIndex: details.recordIndex });
    this.truncated = details.truncated;
  }
}

/** Throw IncompleteImageError when `bytes` is a structurally incomplete image of a checked codec. */
export function assertImageComplete(bytes: Uint8Array, codec: ImageCodecCode, recordIndex?: number): void {
  const structure = checkImageStructure(bytes, codec);
  if (structure.checked && !structure.complete) {
    throw new IncompleteImageError(structure.problem, { byteOffset: structure.byteOffset, recordIndex, truncated: structure.truncated });
  }
}
