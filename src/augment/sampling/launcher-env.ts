// rank / world_size from the variables distributed launchers set, so `picpac stream` (and a
// program that asks) needs no flags under torchrun, mpirun or srun. Explicit parameters win.
import { invalidParameterError } from '../../errors.ts';

/** [rank variable, world size variable], first match wins. */
const LAUNCHER_VARIABLES: ReadonlyArray<readonly [string, string, string]> = [
  ['RANK', 'WORLD_SIZE', 'torchrun'],
  ['OMPI_COMM_WORLD_RANK', 'OMPI_COMM_WORLD_SIZE', 'Open MPI'],
  ['PMI_RANK', 'PMI_SIZE', 'MPICH'],
  ['SLURM_PROCID', 'SLURM_NTASKS', 'Slurm'],
];

export interface LauncherShare {
  rank: number;
  worldSize: number;
  /** Which launcher's variables were used, e.g. "torchrun (RANK, WORLD_SIZE)". */
  origin: string;
}

/** The rank and world size a launcher announced, or undefined when none did. */
export function launcherShare(env: NodeJS.ProcessEnv = process.env): LauncherShare | undefined {
  for (const [rankName, sizeName, launcher] of LAUNCHER_VARIABLES) {
    const rankText = env[rankName];
    const sizeText = env[sizeName];
    if (rankText === undefined || sizeText === undefined || rankText === '' || sizeText === '') continue;
    const rank = Number(rankText);
    const worldSize = Number(sizeText);
    if (!Number.isSafeInteger(worldSize) || worldSize < 1) throw invalidParameterError(sizeName, 'a positive integer', sizeText);
    if (!Number.isSafeInteger(rank) || rank < 0 || rank >= worldSize) throw invalidParameterError(rankName, `an integer between 0 and ${worldSize - 1} (${sizeName} is ${worldSize})`, rankText);
    return { rank, worldSize, origin: `${launcher} (${rankName}, ${sizeName})` };
  }
  return undefined;
}
