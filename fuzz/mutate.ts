// Byte mutations in the style of AFL's havoc stage: small, structure-blind edits that hit
// length fields, checksums, counts and truncation points.
export interface Rand {
  int(maxExclusive: number): number;
}

const INTERESTING_U32 = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xfff, 0x1000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];

export function mutate(input: Uint8Array, rand: Rand, other?: Uint8Array): Uint8Array {
  let out: Uint8Array = input.slice();
  const edits = 1 + rand.int(4);
  for (let e = 0; e < edits; e++) {
    if (out.length === 0) out = new Uint8Array(1 + rand.int(64));
    const at = rand.int(out.length);
    switch (rand.int(8)) {
      case 0: // flip one bit
        out[at] ^= 1 << rand.int(8);
        break;
      case 1: // random byte
        out[at] = rand.int(256);
        break;
      case 2: { // interesting u32, little-endian, at a 4-byte boundary half the time
        const pos = rand.int(2) ? at & ~3 : at;
        const v = INTERESTING_U32[rand.int(INTERESTING_U32.length)];
        for (let k = 0; k < 4 && pos + k < out.length; k++) out[pos + k] = (v >>> (8 * k)) & 0xff;
        break;
      }
      case 3: // truncate
        out = out.slice(0, at);
        break;
      case 4: { // delete a block
        const n = 1 + rand.int(Math.min(256, out.length - at));
        out = concat(out.subarray(0, at), out.subarray(at + n));
        break;
      }
      case 5: { // duplicate a block
        const n = 1 + rand.int(Math.min(256, out.length - at));
        out = concat(out.subarray(0, at + n), out.subarray(at));
        break;
      }
      case 6: { // splice in the tail of another seed
        if (other && other.length > 0) out = concat(out.subarray(0, at), other.subarray(rand.int(other.length)));
        break;
      }
      default: { // add/subtract a small delta to a byte (off-by-one lengths)
        out[at] = (out[at] + (rand.int(2) ? 1 : 255)) & 0xff;
      }
    }
  }
  return out;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
