// The JPEG decoder chain: libjpeg-turbo first (when its package loads), @napi-rs/image next; a
// failing sync decoder hands the image to the next one; decoding into a caller's scratch buffer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { FormatError } from '../../src/errors.ts';
import { IncompleteImageError } from '../../src/augment/pixels/image-complete.ts';
import { decodeImage, decodeImageSync, jpegComponentCount, listImageDecoders, registerImageDecoder, syncDecoderChain } from '../../src/augment/pixels/decode.ts';
import { DECODE_TARGET_SKEW_BYTES, decodeTargetBytes } from '../../src/augment/pixels/decode-target.ts';
import { ImageCodec } from '../../src/format/layout.ts';
import { pixels } from './stream-fixtures.ts';

const W = 64;
const H = 40;
const rgbJpeg = async () => new Uint8Array(await sharp(pixels(W, H, 3), { raw: { width: W, height: H, channels: 3 } }).jpeg({ quality: 90 }).toBuffer());
const greyJpeg = async () => new Uint8Array(await sharp(pixels(W, H, 5).subarray(0, W * H), { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 90 }).toBuffer());

function loads(name: string): boolean {
  try {
    createRequire(import.meta.url)(name);
    return true;
  } catch {
    return false;
  }
}
const turbo = loads('@julusian/jpeg-turbo');
const napi = loads('@napi-rs/image');

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('JPEG decoder chain', () => {
  test('libjpeg-turbo comes first, @napi-rs/image next', { skip: !turbo && 'skipped: @julusian/jpeg-turbo does not load here' }, () => {
    const names = syncDecoderChain(ImageCodec.jpeg).map((d) => d.name);
    assert.equal(names[0], '@julusian/jpeg-turbo');
    if (napi) assert.ok(names.indexOf('@napi-rs/image') > 0);
  });

  test('libjpeg-turbo and @napi-rs/image decode the same pixels (within IDCT rounding)', { skip: !(turbo && napi) && 'skipped: needs both decoders' }, async () => {
    const bytes = await rgbJpeg();
    const [first, second] = syncDecoderChain(ImageCodec.jpeg);
    const header = { codec: ImageCodec.jpeg, width: W, height: H };
    const a = first.decodeSync!(bytes, header);
    const b = second.decodeSync!(bytes, header);
    assert.deepEqual([a.width, a.height, a.channels], [W, H, 3]);
    assert.deepEqual([b.width, b.height, b.channels], [W, H, 3]);
    assert.ok(maxAbsDiff(a.data, b.data) <= 8, `max difference ${maxAbsDiff(a.data, b.data)}`);
  });

  test('grey JPEG stays one channel; SOF component count is read from the header', async () => {
    const bytes = await greyJpeg();
    assert.equal(jpegComponentCount(bytes), 1);
    assert.equal(jpegComponentCount(await rgbJpeg()), 3);
    assert.equal(jpegComponentCount(Uint8Array.of(0xff, 0xd8, 0x00, 0x00)), 0);
    const image = decodeImageSync(bytes, { channels: 0 });
    assert.equal(image.width, W);
    if (turbo) assert.equal(image.channels, 1); // @napi-rs/image alone returns grey JPEG as RGB
  });

  test('a failing sync decoder falls back to the next; all failing gives the first error', async () => {
    const bytes = await rgbJpeg();
    const reference = decodeImageSync(bytes);
    let enabled = true;
    let calls = 0;
    registerImageDecoder({
      name: 'test-failing-jpeg',
      codecs: [ImageCodec.jpeg],
      isAvailable: () => enabled,
      decodeSync: () => {
        calls++;
        throw new Error('test decoder refuses');
      },
    });
    try {
      assert.equal(syncDecoderChain(ImageCodec.jpeg)[0].name, 'test-failing-jpeg');
      const image = decodeImageSync(bytes);
      assert.equal(calls, 1);
      assert.deepEqual(image.data, reference.data);
      assert.deepEqual((await decodeImage(bytes)).data, reference.data);
      // Structurally complete but undecodable (bogus Huffman table): every decoder fails; the
      // error is the first one's, typed and located.
      assert.throws(() => decodeImageSync(bogusHuffman(bytes), { recordIndex: 7 }), (e: unknown) =>
        e instanceof FormatError && /test-failing-jpeg: test decoder refuses/.test(e.message) && /7/.test(e.message));
    } finally {
      enabled = false;
    }
    assert.notEqual(syncDecoderChain(ImageCodec.jpeg)[0]?.name, 'test-failing-jpeg');
  });

  test('the structure check runs before a decoder that does not reject damaged streams, and after one that does when it fails', async () => {
    const bytes = await rgbJpeg();
    const reference = decodeImageSync(bytes);
    const truncated = bytes.slice(0, Math.floor(bytes.length * 0.7));
    let vouches = false;
    let enabled = true;
    let calls = 0;
    let fail = false;
    // Stands for a decoder that returns pixels for whatever it is given (a half-grey image).
    registerImageDecoder({
      name: 'test-lenient-jpeg',
      codecs: [ImageCodec.jpeg],
      isAvailable: () => enabled,
      get rejectsDamaged() {
        return vouches;
      },
      decodeSync: () => {
        calls++;
        if (fail) throw new Error('test decoder: premature end of data');
        return reference;
      },
    });
    try {
      // Not rejecting damage itself: the check names the truncation, the decoder is never called.
      assert.throws(() => decodeImageSync(truncated, { recordIndex: 4 }), (e: unknown) => e instanceof IncompleteImageError && /record 4/.test(e.message) && e.truncated);
      assert.equal(calls, 0);
      // A decoder that does: its success stands (no check before it) ...
      vouches = true;
      assert.equal(decodeImageSync(truncated), reference);
      assert.equal(calls, 1);
      // ... and when it fails, the check runs before anything else: the same typed error.
      fail = true;
      assert.throws(() => decodeImageSync(truncated, { recordIndex: 4 }), (e: unknown) => e instanceof IncompleteImageError && /record 4/.test(e.message));
      await assert.rejects(decodeImage(truncated, { recordIndex: 4 }), IncompleteImageError);
      assert.equal(calls, 3);
    } finally {
      enabled = false;
    }
    assert.throws(() => registerImageDecoder({ name: 'test-bad-flag', codecs: [ImageCodec.jpeg], decodeSync: () => reference, rejectsDamaged: 'yes' as unknown as boolean }), TypeError);
  });

  test('when every decoder that vouches fails and no other is left, the check still names the damage (sync and async)', async () => {
    const bytes = await rgbJpeg();
    const truncated = bytes.slice(0, Math.floor(bytes.length * 0.7));
    const saved = listImageDecoders();
    // Only a vouching decoder that fails is left for JPEG (the real ones made unavailable).
    for (const d of saved) if (d.codecs.includes(ImageCodec.jpeg)) registerImageDecoder({ ...d, isAvailable: () => false });
    registerImageDecoder({ name: 'test-vouching-jpeg', codecs: [ImageCodec.jpeg], rejectsDamaged: true, decodeSync: () => { throw new Error('test: premature end of data'); } });
    try {
      assert.throws(() => decodeImageSync(truncated, { recordIndex: 9 }), (e: unknown) => e instanceof IncompleteImageError && /record 9/.test(e.message));
      await assert.rejects(decodeImage(truncated), IncompleteImageError);
    } finally {
      registerImageDecoder({ name: 'test-vouching-jpeg', codecs: [ImageCodec.jpeg], isAvailable: () => false, decodeSync: () => { throw new Error('unused'); } });
      for (const d of [...saved].reverse()) registerImageDecoder(d); // the original order
    }
    assert.deepEqual(listImageDecoders().map((d) => d.name).filter((n) => !n.startsWith('test-')), saved.map((d) => d.name).filter((n) => !n.startsWith('test-')));
  });

  test('libjpeg-turbo throws on every damaged stream (what rejectsDamaged relies on); whole ones, trailing bytes included, decode', { skip: !turbo && 'skipped: @julusian/jpeg-turbo does not load here' }, async () => {
    const bytes = await rgbJpeg();
    const libjpeg = syncDecoderChain(ImageCodec.jpeg).find((d) => d.name === '@julusian/jpeg-turbo')!;
    assert.equal(libjpeg.rejectsDamaged, true);
    const header = { codec: ImageCodec.jpeg, width: W, height: H };
    const sos = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xda);
    const middle = sos + Math.floor((bytes.length - sos) / 2);
    const sof = bytes.findIndex((b, i) => b === 0xff && bytes[i + 1] === 0xc0);
    const afterFrameHeader = sof + 2 + ((bytes[sof + 2] << 8) | bytes[sof + 3]); // the next segment's 0xFF
    const patched = (at: number, ...values: number[]) => {
      const b = bytes.slice();
      values.forEach((v, k) => (b[at + k] = v));
      return b;
    };
    const damaged: Record<string, Uint8Array> = {
      'cut in the entropy-coded data': bytes.slice(0, middle),
      'no end-of-image marker': bytes.slice(0, bytes.length - 2),
      'cut in the headers': bytes.slice(0, sos - 4),
      'end-of-image marker mid-scan': patched(middle, 0xff, 0xd9),
      'frame marker mid-scan': patched(middle, 0xff, 0xc0),
      'restart marker without a restart interval': patched(middle, 0xff, 0xd0),
      'not a marker between segments': patched(afterFrameHeader, 0x12),
    };
    // The structure check names these (it lets the other two through to the next decoder).
    const incomplete = new Set(['cut in the entropy-coded data', 'no end-of-image marker', 'cut in the headers', 'frame marker mid-scan', 'not a marker between segments']);
    for (const [name, b] of Object.entries(damaged)) {
      assert.throws(() => libjpeg.decodeSync!(b, header), Error, name);
      if (incomplete.has(name)) assert.throws(() => decodeImageSync(b), IncompleteImageError, name);
    }
    assert.deepEqual(libjpeg.decodeSync!(Uint8Array.of(...bytes, 1, 2, 3), header).data, libjpeg.decodeSync!(bytes, header).data);
  });

  test('decoders after the one that succeeds are not loaded (asked whether available) at all', async () => {
    const bytes = await rgbJpeg();
    const reference = decodeImageSync(bytes);
    let enabled = true;
    let askedLater = 0;
    // Later registrations are tried first: this one comes second, behind the one registered
    // next. It stands for a decoder whose package is heavy to load.
    registerImageDecoder({
      name: 'test-late-jpeg',
      codecs: [ImageCodec.jpeg],
      isAvailable: () => {
        if (enabled) askedLater++;
        return false;
      },
      decodeSync: () => reference,
    });
    // And one that succeeds, tried first.
    registerImageDecoder({ name: 'test-first-jpeg', codecs: [ImageCodec.jpeg], isAvailable: () => enabled, decodeSync: () => reference });
    const late = syncDecoderChain(ImageCodec.jpeg); // listing the chain asks everyone (for reports)
    try {
      askedLater = 0;
      assert.equal(late[0].name, 'test-first-jpeg');
      for (let i = 0; i < 3; i++) assert.equal(decodeImageSync(bytes), reference);
      assert.equal(askedLater, 0, 'the late decoder was asked whether its package loads');
    } finally {
      enabled = false;
    }
  });

  test('libjpeg-turbo declines CMYK (the next decoder takes it) and garbage reports a real failure', { skip: !(turbo && napi) && 'skipped: needs both decoders' }, async () => {
    const raw = { raw: { width: W, height: H, channels: 3 as const } };
    const cmyk = new Uint8Array(await sharp(pixels(W, H, 1), raw).toColourspace('cmyk').jpeg().toBuffer());
    assert.equal(jpegComponentCount(cmyk), 4);
    const image = decodeImageSync(cmyk);
    assert.deepEqual([image.width, image.height, image.channels], [W, H, 3]);
    // Garbage after the header is refused by the structure check before any decoder runs.
    const garbage = await rgbJpeg();
    garbage.fill(0x5a, 30);
    assert.throws(() => decodeImageSync(garbage, { recordIndex: 2 }), (e: unknown) => e instanceof FormatError && /record 2/.test(e.message));
    // A complete structure that no decoder can decode: the real failure is reported.
    const bogus = bogusHuffman(await rgbJpeg());
    assert.throws(() => decodeImageSync(bogus, { recordIndex: 2 }), (e: unknown) =>
      e instanceof FormatError && /image decode failed/.test(e.message) && /record 2/.test(e.message));
  });

  test('decoding into a scratch buffer: same pixels, aliased when large enough', { skip: !turbo && 'skipped: @julusian/jpeg-turbo does not load here' }, async () => {
    const bytes = await rgbJpeg();
    const fresh = decodeImageSync(bytes);
    const scratch = new Uint8Array(W * H * 3 + 100).fill(7);
    const into = decodeImageSync(bytes, { into: scratch });
    assert.equal(into.data.buffer, scratch.buffer);
    assert.deepEqual(Array.from(into.data), Array.from(fresh.data));
    const small = new Uint8Array(10);
    const notInto = decodeImageSync(bytes, { into: small });
    assert.notEqual(notInto.data.buffer, small.buffer);
    assert.deepEqual(Array.from(notInto.data), Array.from(fresh.data));
    // The async entry ignores the scratch (its result must outlive the call).
    const asyncImage = await decodeImage(bytes, { into: scratch });
    assert.notEqual(asyncImage.data.buffer, scratch.buffer);
    assert.throws(() => decodeImageSync(bytes, { into: [1, 2, 3] as never }), TypeError);
  });

  test('decode targets start 8 bytes into their buffer (never 16-aligned), and libjpeg-turbo decodes into one in place', { skip: !turbo && 'skipped: @julusian/jpeg-turbo does not load here' }, async () => {
    const target = decodeTargetBytes(W * H * 3);
    assert.equal(DECODE_TARGET_SKEW_BYTES, 8);
    assert.deepEqual([target.byteOffset, target.length, target.buffer.byteLength], [8, W * H * 3, W * H * 3 + 8]);
    assert.ok(target.every((v) => v === 0));
    const bytes = await rgbJpeg();
    const image = decodeImageSync(bytes, { into: target });
    assert.equal(image.data.buffer, target.buffer);
    assert.equal(image.data.byteOffset, 8);
    assert.deepEqual(Array.from(image.data), Array.from(decodeImageSync(bytes).data));
    assert.deepEqual(Array.from(new Uint8Array(target.buffer, 0, 8)), [0, 0, 0, 0, 0, 0, 0, 0], 'nothing written before the target');
  });
});

/** A copy of `jpeg` whose first Huffman table claims 255 codes of every length: the marker
 * structure stays valid (the import/stream structure check passes), decoding fails. */
function bogusHuffman(jpeg: Uint8Array): Uint8Array {
  const out = jpeg.slice();
  for (let i = 2; i + 4 < out.length; i++) {
    if (out[i] === 0xff && out[i + 1] === 0xc4) {
      out.fill(0xff, i + 5, i + 5 + 16); // after marker, length (2) and class/id (1)
      return out;
    }
  }
  throw new Error('no DHT segment');
}
