// `picpac verify`'s image pass: checksums prove the bytes are as written, not that what was
// written was a whole image. One sequential scan walks the structure of every image and label
// field (src/format/image-structure.ts: JPEG to EOI, PNG to IEND, WebP/BMP lengths; ~600 MB/s,
// far cheaper than decoding) and names the records whose images are truncated or damaged —
// typically imported before import checked them (docs/hostile-input.md).
import { openStore } from '../engine/open-store.ts';
import { checkImageStructure } from '../format/image-structure.ts';
import { ImageCodec } from '../format/layout.ts';

export interface ImageProblem {
  recordIndex: number;
  fieldIndex: number;
  /** Absolute offset of the record frame in the file (-1 when the backend has none). */
  recordByteOffset: number;
  problem: string;
}

export async function checkStoredImages(path: string, options: { maxProblems?: number } = {}): Promise<{ problems: ImageProblem[]; problemCount: number; imagesChecked: number }> {
  const maxProblems = options.maxProblems ?? 100;
  const problems: ImageProblem[] = [];
  let problemCount = 0;
  let imagesChecked = 0;
  const store = await openStore(path);
  try {
    for await (const record of store.scan()) {
      for (const [fieldIndex, field] of record.fields.entries()) {
        if ((field.kind !== 'image' && field.kind !== 'label') || field.codec === ImageCodec.v1raw) continue;
        const structure = checkImageStructure(field.bytes);
        if (!structure.checked) continue;
        imagesChecked++;
        if (structure.complete) continue;
        problemCount++;
        if (problems.length < maxProblems) problems.push({ recordIndex: record.recordIndex, fieldIndex, recordByteOffset: record.byteOffset, problem: structure.problem });
      }
    }
  } finally {
    await store.close();
  }
  return { problems, problemCount, imagesChecked };
}
