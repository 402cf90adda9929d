// The options of StoreWriter.flush(), checked once for both writers (.picpac and LMDB).
import { invalidParameterError } from '../errors.ts';

/** Whether flush(options) asks for fsync; throws on anything but undefined or { fsync?: boolean }. */
export function flushWantsFsync(options: unknown): boolean {
  if (options !== undefined && (typeof options !== 'object' || options === null)) throw invalidParameterError('options', 'an object', options);
  const fsync = (options as { fsync?: unknown } | undefined)?.fsync ?? false;
  if (typeof fsync !== 'boolean') throw invalidParameterError('options.fsync', 'a boolean', fsync);
  return fsync;
}
