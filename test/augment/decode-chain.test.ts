// The JPEG decoder chain: libjpeg-turbo first (when its package loads), @napi-rs/image next; a
// failing sync decoder hands the image to the next one; decoding into a caller's scratch buffer.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { FormatError } from '../../src/errors.ts';
import { decodeImage, decodeImageSync, jpegComponentCount, registerImageDecoder, syncDecoderChain } from '../../src/augment/pixels/decode.ts';
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
