// The frames of a .picpac file walked from its bytes alone (SPEC §3: frame header, payload,
// zero padding to the alignment): an oracle independent of the reader, for the durability tests
// and scripts/torture.ts. Not a test file itself.
import { decodeFrameHeader } from '../src/format/frame.ts';
import { FrameKind } from '../src/format/layout.ts';

/** Every frame of a file: [kind, offset, end]. */
export function frameSpans(bytes: Uint8Array, alignment: number): Array<[number, number, number]> {
  const out: Array<[number, number, number]> = [];
  let at = Math.max(64, alignment);
  while (at < bytes.length) {
    if (bytes[at] === 0) {
      at = Math.ceil(at / alignment) * alignment;
      continue;
    }
    const h = decodeFrameHeader(bytes.subarray(at, at + 16), at);
    out.push([h.kind, at, at + 16 + h.payloadByteLength]);
    at += 16 + h.payloadByteLength;
  }
  return out;
}

/** Recovery units [RCV-8]: each record frame [offset, end], extended by the annotation frame written right after it. */
export function recordUnits(bytes: Uint8Array, alignment: number): Array<[number, number]> {
  const units: Array<[number, number]> = [];
  for (const [kind, at, end] of frameSpans(bytes, alignment)) {
    if (kind === FrameKind.record) units.push([at, end]);
    if (kind === FrameKind.annotation && units.length > 0 && units[units.length - 1][1] === at) units[units.length - 1][1] = end;
  }
  return units;
}
