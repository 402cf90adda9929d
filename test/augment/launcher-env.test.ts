import assert from 'node:assert/strict';
import { test } from 'node:test';
import { launcherShare } from '../../src/augment/sampling/launcher-env.ts';

test('rank and world size from torchrun, Open MPI, MPICH and Slurm variables', () => {
  assert.equal(launcherShare({}), undefined);
  assert.deepEqual(launcherShare({ RANK: '3', WORLD_SIZE: '8' }), { rank: 3, worldSize: 8, origin: 'torchrun (RANK, WORLD_SIZE)' });
  assert.equal(launcherShare({ OMPI_COMM_WORLD_RANK: '1', OMPI_COMM_WORLD_SIZE: '2' })?.rank, 1);
  assert.equal(launcherShare({ PMI_RANK: '0', PMI_SIZE: '4' })?.worldSize, 4);
  assert.equal(launcherShare({ SLURM_PROCID: '5', SLURM_NTASKS: '6' })?.rank, 5);
  // torchrun's variables win over the others; a lone RANK without WORLD_SIZE is ignored.
  assert.equal(launcherShare({ RANK: '1', WORLD_SIZE: '2', OMPI_COMM_WORLD_RANK: '0', OMPI_COMM_WORLD_SIZE: '4' })?.worldSize, 2);
  assert.equal(launcherShare({ RANK: '1' }), undefined);
});

test('inconsistent launcher variables are refused with their names', () => {
  assert.throws(() => launcherShare({ RANK: '2', WORLD_SIZE: '2' }), /RANK/);
  assert.throws(() => launcherShare({ RANK: 'x', WORLD_SIZE: '2' }), /RANK/);
  assert.throws(() => launcherShare({ RANK: '0', WORLD_SIZE: '0' }), /WORLD_SIZE/);
});
