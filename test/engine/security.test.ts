// [SEC-2] CRC-32C detects accidental corruption, not tampering: a single flipped bit anywhere in
// a record is caught by verify, but a deliberate edit that recomputes the checksums produces a
// file every reader accepts. Only a hash of the whole file, published with the dataset (or a
// signature), tells the two files apart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { MemorySource } from '../../src/engine/sources/byte-source.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { verifyStore } from '../../src/engine/picpac/verify.ts';
import { encodeFileImage } from '../../src/format/file-image.ts';
import { FieldKind } from '../../src/format/layout.ts';

const records = (secret: number) => [0, 1, 2].map((i) => ({
  id: i,
  label: i,
  label2: 0,
  fields: [{ kind: FieldKind.bytes, codec: 0, bytes: new Uint8Array(40).fill(i === 1 ? secret : i), width: 0, height: 0 }],
}));
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

test('CRC catches accidental bit flips but not a tampered file with recomputed CRCs; the whole-file SHA-256 does [SEC-2]', async () => {
  const original = encodeFileImage(records(1), { alignment: 1 });
  const published = sha256(original);
  assert.equal((await verifyStore(new MemorySource(original))).ok, true);

  // Accidental: every single-bit flip in record 1's payload bytes is detected.
  const reader = await PicpacReader.open(new MemorySource(original));
  const { byteOffset, byteLength } = reader.meta(1);
  await reader.close();
  for (let at = byteOffset + 16; at < byteOffset + byteLength; at += 7) {
    const flipped = original.slice();
    flipped[at] ^= 1 << (at % 8);
    assert.equal((await verifyStore(new MemorySource(flipped))).ok, false, `flip at byte ${at} not detected`);
  }

  // Deliberate: the same bytes changed, checksums recomputed: a valid file, same length.
  const tampered = encodeFileImage(records(0xee), { alignment: 1 });
  assert.equal(tampered.length, original.length);
  assert.equal((await verifyStore(new MemorySource(tampered))).ok, true, 'CRCs are not a signature');
  const forged = await PicpacReader.open(new MemorySource(tampered));
  assert.equal((await forged.get(1)).fields[0].bytes[0], 0xee);
  await forged.close();
  assert.notEqual(sha256(tampered), published, 'the published hash exposes the tampering');
});
