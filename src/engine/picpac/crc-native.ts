// Install @node-rs/crc32's hardware CRC-32C (SSE4.2 / ARMv8 CRC) into the format layer, which
// ships a pure-JS slicing-by-8 fallback so it stays browser-safe. Called at module init by the
// reader, writer and openStore; harmless when the package is missing (the JS fallback stays).
import { createRequire } from 'node:module';
import { setCrc32cImplementation } from '../../format/crc32c.ts';

let installed: boolean | undefined;

/** Returns true when the native implementation is active. Idempotent. */
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

installNativeCrc32c();
