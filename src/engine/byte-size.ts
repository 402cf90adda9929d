// Sizes as people write them: 512MB, 20GB, 1.5GiB, 4096. Decimal units are powers of 1000,
// binary ones (KiB, MiB, GiB, TiB) powers of 1024, as in `df -H` / `df -h`.
import { invalidParameterError } from '../errors.ts';

const UNITS: Record<string, number> = {
  '': 1, B: 1,
  KB: 1e3, MB: 1e6, GB: 1e9, TB: 1e12,
  K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4,
  KIB: 1024, MIB: 1024 ** 2, GIB: 1024 ** 3, TIB: 1024 ** 4,
};

/** Bytes from "512MB", "20GB", "64MiB", "1e6" or a number; TypeError for anything else. */
export function parseByteSize(text: string | number, name = 'size'): number {
  if (typeof text === 'number') {
    if (Number.isSafeInteger(text) && text >= 0) return text;
    throw invalidParameterError(name, 'a byte count such as 512MB, 20GB or 4096', text);
  }
  const m = /^\s*(\d+(?:\.\d+)?(?:e\d+)?)\s*([a-z]*)\s*$/i.exec(String(text));
  const unit = m ? UNITS[m[2].toUpperCase()] : undefined;
  const bytes = m && unit !== undefined ? Math.floor(Number(m[1]) * unit) : NaN;
  if (!Number.isSafeInteger(bytes) || bytes < 0) throw invalidParameterError(name, 'a byte count such as 512MB, 20GB or 4096', text);
  return bytes;
}
