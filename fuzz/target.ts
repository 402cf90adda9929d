// The fuzz target: everything a reader does with untrusted bytes. Only PicpacError subclasses
// may escape; anything else (TypeError from a DataView, RangeError from an allocation, a hang)
// is a bug. Shared by the fuzzer (fuzz/run.ts) and the regression test.
import { PicpacError } from '../src/errors.ts';
import { MemorySource } from '../src/engine/sources/byte-source.ts';
import { openSourceStore } from '../src/engine/open-store.ts';
import { verifyStore } from '../src/engine/picpac/verify.ts';

/** Limits low enough that a mutated length cannot make the fuzzer allocate gigabytes. */
const LIMITS = { maxRecordBytes: 16 << 20, maxAnnotationBytes: 1 << 20 };

export interface TargetOutcome {
  /** Error codes seen (PicpacError.code) or 'ok'. */
  outcomes: string[];
}

async function expectTyped(outcomes: string[], run: () => Promise<unknown>): Promise<void> {
  try {
    await run();
    outcomes.push('ok');
  } catch (err) {
    if (err instanceof PicpacError) outcomes.push(err.code);
    else throw err;
  }
}

export async function runTarget(bytes: Uint8Array): Promise<TargetOutcome> {
  const outcomes: string[] = [];
  for (const recover of [false, true]) {
    await expectTyped(outcomes, async () => {
      const store = await openSourceStore(new MemorySource(bytes, 'fuzz-input'), { recover, ...LIMITS });
      try {
        const count = Math.min(store.recordCount, 64);
        for (let i = 0; i < count; i++) {
          store.meta(i);
          await expectTyped(outcomes, () => store.get(i));
          await expectTyped(outcomes, () => store.getAnnotation(i));
        }
        await expectTyped(outcomes, async () => {
          let seen = 0;
          for await (const _ of store.scan({ chunkBytes: 1 << 16 })) if (++seen >= 64) break;
        });
      } finally {
        await store.close();
      }
    });
  }
  await expectTyped(outcomes, () => verifyStore(new MemorySource(bytes, 'fuzz-input'), LIMITS));
  return { outcomes };
}
