// Lazy imports of optional dependencies (package.json "optionalDependencies"): a package that
// only one command needs (TensorFlow.js for train/predict; later the AWS SDK for s3://, a JPEG
// decoder) is imported when that command runs, and its absence becomes one clear sentence
// naming what to install instead of a stack trace from deep inside the module graph.
import { MissingDependencyError } from './errors.ts';

function isModuleNotFound(error: unknown, specifier: string): boolean {
  const e = error as { code?: unknown; message?: unknown };
  return (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') && typeof e.message === 'string' && e.message.includes(`'${specifier}`);
}

/**
 * The MissingDependencyError for an import failure caused by a missing package (Node's
 * "Cannot find package 'x' imported from …"), or undefined for any other error.
 * @param error what a failed `import()` threw
 * @param feature what needs the package, for the message
 */
export function missingDependency(error: unknown, feature: string): MissingDependencyError | undefined {
  const e = error as { code?: unknown; message?: unknown };
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || typeof e.message !== 'string') return undefined;
  const name = /Cannot find package '([^']+)'/.exec(e.message)?.[1];
  return name === undefined ? undefined : new MissingDependencyError(feature, [packageName(name)], { cause: error });
}

/**
 * Import an optional package, or throw MissingDependencyError naming it.
 * @param specifier the package (or a subpath of it) to import
 * @param feature what needs it, for the message ("picpac train")
 * @param packages what to install (default: the specifier's package)
 */
export async function importOptional<T = unknown>(specifier: string, feature: string, packages: readonly string[] = [packageName(specifier)]): Promise<T> {
  try {
    return (await import(specifier)) as T;
  } catch (error) {
    if (isModuleNotFound(error, packageName(specifier))) throw new MissingDependencyError(feature, packages, { cause: error });
    throw error;
  }
}

/**
 * Check that optional packages resolve, without loading them (cheap: no module evaluation).
 * Call before importing project modules that import them statically.
 * @param specifiers packages that must be installed
 * @param feature what needs them, for the message
 * @param packages what to install when any is missing (default: the missing ones)
 */
export function requireOptional(specifiers: readonly string[], feature: string, packages?: readonly string[]): void {
  const missing = specifiers.filter((s) => !resolves(s));
  if (missing.length > 0) throw new MissingDependencyError(feature, packages ?? missing.map(packageName));
}

function resolves(specifier: string): boolean {
  try {
    import.meta.resolve(specifier);
    return true;
  } catch {
    return false;
  }
}

/** `@scope/name/sub` → `@scope/name`; `name/sub` → `name`. */
function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}
