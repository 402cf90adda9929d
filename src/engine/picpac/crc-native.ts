// Install @node-rs/crc32's hardware CRC-32C (SSE4.2 / ARMv8 CRC) into the format layer, which
// ships a pure-JS slicing-by-8 fallback so it stays browser-safe. Importing this module (the
// reader, writer and openStore do) arranges a lazy install: loading the native module costs
// ~25 ms, so it happens only once 4 MiB have been hashed in JS (~13 ms cold, ~1 ms/MiB warm
// against ~0.35 native): `picpac stat`, which hashes one index block, never pays it (issue 11).
// Harmless when the package is missing (the JS fallback stays).
import { createRequire } from 'node:module';
import { setCrc32cImplementation, setCrc32cLoader } from '../../format/crc32c.ts';

/** JS bytes hashed before the native CRC-32C is loaded (break-even of load time vs. speed). */
const NATIVE_AFTER_BYTES = 4 << 20;

let installed: boolean | undefined;

/** Load and install the native CRC-32C now; returns true when it is active. Idempotent. */
export function installNativeCrc32c(): boolean {
  if (installed !== undefined) return installed;
  try {
    const native = createRequire(import.meta.url)('@node-rs/crc32') as {
      crc32c(input: Uint8Array, initialState?: number | null): number;
    };
    // Check it against the known answer before trusting it.
    if (native.crc32c(new TextEncoder().encode('123456789')) >>> 0 !== 0xe3069283) throw new Error('bad native crc32c');
    setCrc32cImplementation((bytes, seed) => native.crc32c(bytes, seed ?? 0) >>> 0);
    installed = true;
  } catch {
    installed = false;
  }
  return installed;
}

if (installed === undefined) setCrc32cLoader(() => void installNativeCrc32c(), NATIVE_AFTER_BYTES);
