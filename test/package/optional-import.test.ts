// Optional packages (src/optional-import.ts): a missing one becomes a MissingDependencyError
// that names what to install; an installed one loads; other errors pass through unchanged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MissingDependencyError, PicpacError } from '../../src/errors.ts';
import { importOptional, missingDependency, requireOptional } from '../../src/optional-import.ts';

test('requireOptional: installed packages pass; a missing one names the packages to install', () => {
  requireOptional(['sharp', '@tensorflow/tfjs'], 'picpac train');
  assert.throws(() => requireOptional(['sharp', 'no-such-package-xyz/sub'], 'picpac frob'), (e: unknown) => {
    assert.ok(e instanceof MissingDependencyError && e instanceof PicpacError);
    assert.equal(e.code, 'MISSING_DEPENDENCY');
    assert.deepEqual(e.packages, ['no-such-package-xyz']);
    assert.equal(e.message, 'picpac frob needs the optional package no-such-package-xyz, which is not installed; run: npm install no-such-package-xyz');
    return true;
  });
  assert.throws(() => requireOptional(['@no-such/pkg'], 'picpac train', ['@tensorflow/tfjs', '@tensorflow/tfjs-backend-wasm']), {
    message: 'picpac train needs the optional packages @tensorflow/tfjs, @tensorflow/tfjs-backend-wasm, which are not installed; run: npm install @tensorflow/tfjs @tensorflow/tfjs-backend-wasm',
  });
});

test('importOptional loads an installed package and turns a missing one into MissingDependencyError', async () => {
  const crc = await importOptional<{ crc32c: unknown }>('@node-rs/crc32', 'x');
  assert.equal(typeof crc.crc32c, 'function');
  await assert.rejects(importOptional('@no-such/pkg/deep', 'S3 paths'), (e: unknown) => e instanceof MissingDependencyError && e.packages[0] === '@no-such/pkg' && /^S3 paths needs/.test(e.message));
});

test('missingDependency recognises only "Cannot find package" import failures', async () => {
  const failure = await import('no-such-package-xyz' as string).catch((e: unknown) => e);
  const converted = missingDependency(failure, 'picpac annotate');
  assert.ok(converted instanceof MissingDependencyError);
  assert.deepEqual(converted.packages, ['no-such-package-xyz']);
  assert.equal(converted.cause, failure);
  assert.equal(missingDependency(new Error('boom'), 'x'), undefined);
  assert.equal(missingDependency(Object.assign(new Error("Cannot find module '/abs/file.js'"), { code: 'ERR_MODULE_NOT_FOUND' }), 'x'), undefined);
});
