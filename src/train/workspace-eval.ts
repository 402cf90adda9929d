// `picpac train eval WS` (XNN's eval-caffe-fcn, REFERENCE §2.3.3): score every snapshot on the
// validation fold (cached in WS/eval/<step>.json unless forced), pick the best by the run's
// selection rule (or the one asked for) and copy it to WS/model.
import { existsSync } from 'node:fs';
import { readFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { initBackend } from './backend.ts';
import type { EvalMetrics } from './evaluate.ts';
import { loadModelFromDir } from './model-io.ts';
import type { ModelMeta } from './model-io.ts';
import { copyToModel, isBetter } from './trainer.ts';
import type { TrainParams } from './train-params.ts';
import { validateModel } from './validate.ts';
import { appendLog, listSnapshots, wsPaths } from './workspace.ts';

export interface SnapshotScore {
  step: number;
  metrics: EvalMetrics & { loss: number };
  cached: boolean;
}

export interface WorkspaceEvaluation {
  scores: SnapshotScore[];
  best: SnapshotScore | undefined;
  select: TrainParams['select'];
}

export async function evaluateWorkspace(
  workspace: string,
  options: { select?: TrainParams['select']; force?: boolean; onScore?: (score: SnapshotScore) => void } = {},
): Promise<WorkspaceEvaluation> {
  const ws = path.resolve(workspace);
  const p = wsPaths(ws);
  if (!existsSync(p.params)) throw new Error(`${ws} is not a training workspace (no params.json)`);
  const file = JSON.parse(await readFile(p.params, 'utf8')) as { params: TrainParams; streams: { validation: Record<string, unknown> | null } };
  if (file.streams.validation === null) throw new Error('the run has no validation fold (split 1): nothing to evaluate on');
  const select = options.select ?? file.params.select;
  await mkdir(p.eval, { recursive: true });
  await initBackend({ backend: file.params.backend });
  const scores: SnapshotScore[] = [];
  let best: SnapshotScore | undefined;
  for (const step of await listSnapshots(ws)) {
    const cache = path.join(p.eval, `${step}.json`);
    let score: SnapshotScore;
    if (!options.force && existsSync(cache)) {
      score = { step, metrics: JSON.parse(await readFile(cache, 'utf8')) as EvalMetrics & { loss: number }, cached: true };
    } else {
      const { model, meta } = await loadModelFromDir(p.snapshot(step));
      try {
        const v = await validateModel(model, meta as ModelMeta, file.params.db, file.streams.validation);
        score = { step, metrics: { ...v.metrics, loss: v.loss }, cached: false };
      } finally {
        model.dispose();
      }
      await writeFile(cache, JSON.stringify({ step, ...score.metrics }, null, 2) + '\n');
    }
    scores.push(score);
    options.onScore?.(score);
    if (best === undefined || isBetter(score.metrics, best.metrics, select)) best = score;
  }
  if (best !== undefined) {
    await copyToModel(p.snapshot(best.step), p.model);
    // model/state.json carries the score the next resume compares against.
    const statePath = path.join(p.model, 'state.json');
    const state = JSON.parse(await readFile(statePath, 'utf8')) as Record<string, unknown>;
    await writeFile(statePath, JSON.stringify({ ...state, validation: best.metrics }, null, 2) + '\n');
    await appendLog(ws, `eval: ${scores.length} snapshots scored (${select}); best step ${best.step} → model/`);
  }
  return { scores, best, select };
}
