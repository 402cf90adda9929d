// Run an async function over a stream of items with a bounded number in flight, and hand the
// results back in INPUT order. Importers read and re-encode files in parallel but append in
// order, so the output file does not depend on I/O timing. Failures are returned, not thrown:
// the caller decides whether a bad item is skipped or fatal.

export type Settled<T, R> = { item: T; index: number; ok: true; value: R } | { item: T; index: number; ok: false; error: unknown };

/**
 * @param concurrency items in flight, finished-but-not-yet-consumed ones included (this bounds
 *   memory: at most `concurrency` results are held).
 */
export async function* orderedMap<T, R>(
  source: AsyncIterable<T> | Iterable<T>,
  concurrency: number,
  fn: (item: T, index: number) => Promise<R>,
): AsyncGenerator<Settled<T, R>> {
  const iterator =
    Symbol.asyncIterator in source
      ? (source as AsyncIterable<T>)[Symbol.asyncIterator]()
      : (source as Iterable<T>)[Symbol.iterator]();
  const window: Promise<Settled<T, R>>[] = [];
  let nextIndex = 0;
  let exhausted = false;
  const start = (item: T, index: number): Promise<Settled<T, R>> =>
    Promise.resolve()
      .then(() => fn(item, index))
      .then(
        (value) => ({ item, index, ok: true as const, value }),
        (error: unknown) => ({ item, index, ok: false as const, error }),
      );
  try {
    for (;;) {
      while (!exhausted && window.length < concurrency) {
        const step = await iterator.next();
        if (step.done) {
          exhausted = true;
          break;
        }
        window.push(start(step.value, nextIndex++));
      }
      const head = window.shift();
      if (head === undefined) return;
      yield await head;
    }
  } finally {
    if (!exhausted) await iterator.return?.();
    // Let in-flight work settle so nothing runs after the caller moved on.
    await Promise.all(window);
  }
}
