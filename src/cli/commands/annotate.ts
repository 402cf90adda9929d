// picpac annotate init|serve|export|import|status PROJECT: the annotator (Owl re-done, REFERENCE
// §2.1) as one command with sub-commands. The option table is shared (the parser is per
// command); each sub-command refuses options that are not its own.
import { readFile } from 'node:fs/promises';
import { readAnnotatedSet, EXCHANGE_FORMATS, type ExchangeFormat } from '../../annotate/dataset-io.ts';
import { exportProjectAs, exportProjectPicpac, importIntoProject, initProject } from '../../annotate/project-io.ts';
import { AnnotationProject } from '../../annotate/project.ts';
import { projectStatus } from '../../annotate/queue.ts';
import { startAnnotateServer } from '../../annotate/server.ts';
import { SHAPE_TYPES, type ShapeType } from '../../annotate/shapes.ts';
import { UsageError, choiceOption, flagOption, intOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from '../args.ts';

const SUBCOMMANDS = ['init', 'serve', 'export', 'import', 'status'] as const;
type Sub = (typeof SUBCOMMANDS)[number];

/** Which options each sub-command accepts. */
const ALLOWED: Record<Sub, string[]> = {
  init: ['images', 'list', 'copy', 'classes'],
  serve: ['rows', 'cols', 'shape', 'viewed-as-done', 'classes', 'port', 'host', 'lease'],
  export: ['all', 'format', 'overwrite', 'labels-only'],
  import: ['format', 'user'],
  status: ['json'],
};
const POSITIONALS: Record<Sub, [number, string]> = {
  init: [2, 'init PROJECT'],
  serve: [2, 'serve PROJECT'],
  export: [3, 'export PROJECT OUT'],
  import: [3, 'import PROJECT SRC'],
  status: [2, 'status PROJECT'],
};

export const annotateCommand: CommandSpec = {
  name: 'annotate',
  summary: 'annotate images in the browser (Owl): init a project, serve the page, export, import, status',
  synopsis: 'init|serve|export|import|status PROJECT [OUT|SRC]',
  description: [
    'init PROJECT --images DIR | --list FILE   create the project folder; images stay where they are',
    '                                         (--copy stores their bytes); non-images are skipped and listed',
    'serve PROJECT                            the page at http://HOST:PORT/annotate/ (127.0.0.1:18000)',
    'export PROJECT OUT                       OUT.picpac (default) or, with --format, a COCO/VOC/YOLO/W3C folder',
    'import PROJECT SRC --format F            add shapes from a COCO/VOC/YOLO/W3C dataset, matched by file name',
    'status PROJECT                           total, done, todo, verified, and per annotator',
    'The project folder holds an LMDB store: images, current shapes, an append-only change log,',
    'batches. Page keys: 1-9 class, Del delete, Ctrl+Z/Y undo/redo, D/A next/previous batch, V verified.',
  ].join('\n'),
  options: {
    images: { type: 'string', valueName: 'DIR', description: 'init: a folder of images (searched recursively)' },
    list: { type: 'string', valueName: 'FILE', description: 'init: a file with one image path per line' },
    copy: { type: 'boolean', description: 'init: copy the image bytes into the project' },
    classes: { type: 'string', valueName: 'A,B,...', description: 'init/serve: the class list (number keys 1-9 pick them)' },
    rows: { type: 'string', valueName: 'N', description: 'serve: grid rows (default 2)' },
    cols: { type: 'string', valueName: 'N', description: 'serve: grid columns (default 3)' },
    shape: { type: 'string', valueName: 'rect|polygon|point', description: 'serve: the drawing tool selected at start (default rect)' },
    'viewed-as-done': { type: 'boolean', description: 'serve: an image seen to the end of its batch counts as done (Owl VIEWED_AS_DONE)' },
    port: { type: 'string', valueName: 'N', description: 'serve: TCP port (default 18000; 0 = any free port)' },
    host: { type: 'string', valueName: 'HOST', description: 'serve: interface to bind (default 127.0.0.1)' },
    lease: { type: 'string', valueName: 'SECONDS', description: 'serve: how long a batch stays reserved without a heartbeat (default 600)' },
    all: { type: 'boolean', description: 'export: also images viewed or verified without shapes (negatives)' },
    format: { type: 'string', valueName: 'F', description: 'export: picpac (default), coco, voc, yolo or w3c; import: coco, voc, yolo or w3c' },
    overwrite: { type: 'boolean', description: 'export: replace OUT (or write into a non-empty folder)' },
    'labels-only': { type: 'boolean', description: 'export (coco/voc/yolo/w3c): write the labels without copying images' },
    user: { type: 'string', valueName: 'NAME', description: "import: the name logged for the imported shapes (default 'import')" },
    json: { type: 'boolean', description: 'status: print JSON' },
  },
  minPositionals: 2,
  maxPositionals: 3,
  examples: [
    'picpac annotate init cars --images photos/ --classes car,plate',
    'picpac annotate serve cars --rows 2 --cols 3 --shape rect --classes car,plate',
    'picpac annotate serve cars --viewed-as-done --port 18000 --host 127.0.0.1',
    'picpac annotate export cars cars.picpac --all',
    'picpac annotate export cars cars-coco --format coco',
    'picpac annotate import cars instances.json --format coco',
    'picpac annotate status cars',
  ],
  run: runAnnotate,
};

function parseClasses(text: string | undefined, cmd: string): string[] | undefined {
  if (text === undefined) return undefined;
  const classes = text.split(',').map((c) => c.trim()).filter((c) => c !== '');
  if (classes.length === 0) throw new UsageError('invalid value for --classes: expected comma-separated names', cmd);
  if (new Set(classes).size !== classes.length) throw new UsageError(`invalid value for --classes: a name appears twice in '${text}'`, cmd);
  if (classes.some((c) => c.length > 200)) throw new UsageError('invalid value for --classes: names are limited to 200 characters', cmd);
  return classes;
}

async function runAnnotate(args: ParsedCommand, io: CliIo): Promise<number> {
  const cmd = 'annotate';
  const [subText, projectDir, third] = args.positionals;
  if (!(SUBCOMMANDS as readonly string[]).includes(subText)) throw new UsageError(`unknown sub-command '${subText}': expected one of ${SUBCOMMANDS.join(', ')}`, cmd);
  const sub = subText as Sub;
  for (const [name, value] of Object.entries(args.values)) {
    if (value !== undefined && name !== 'help' && !ALLOWED[sub].includes(name)) throw new UsageError(`--${name} does not apply to 'annotate ${sub}'`, cmd);
  }
  const [count, synopsis] = POSITIONALS[sub];
  if (args.positionals.length !== count) throw new UsageError(`expected 'picpac annotate ${synopsis}'`, cmd);

  if (sub === 'init') {
    const images = stringOption(args, 'images');
    const list = stringOption(args, 'list');
    if ((images === undefined) === (list === undefined)) throw new UsageError('init needs exactly one of --images DIR or --list FILE', cmd);
    const report = await initProject(projectDir, { images, list, copy: flagOption(args, 'copy'), classes: parseClasses(stringOption(args, 'classes'), cmd) });
    await report.project.close();
    for (const s of report.skipped) io.stderr.write(`warning: ${s.name}: ${s.reason}; skipped\n`);
    io.stdout.write(`created ${projectDir}: ${report.added} images${flagOption(args, 'copy') ? ' (copied)' : ''}, ${report.skipped.length} skipped\n`);
    return 0;
  }

  const project = await AnnotationProject.open(projectDir);
  if (sub === 'serve') {
    const rows = intOption(args, 'rows', { min: 1, max: 20 }, cmd) ?? 2;
    const cols = intOption(args, 'cols', { min: 1, max: 20 }, cmd) ?? 3;
    const shape = (choiceOption(args, 'shape', SHAPE_TYPES, cmd) ?? 'rect') as ShapeType;
    const port = intOption(args, 'port', { min: 0, max: 65535 }, cmd) ?? 18000;
    const lease = intOption(args, 'lease', { min: 5, max: 7 * 24 * 3600 }, cmd) ?? 600;
    const host = stringOption(args, 'host') ?? '127.0.0.1';
    const classes = parseClasses(stringOption(args, 'classes'), cmd);
    const viewedAsDone = flagOption(args, 'viewed-as-done');
    try {
      if (classes !== undefined) await project.setClasses(classes);
      await project.setViewedAsDone(viewedAsDone);
      const server = await startAnnotateServer(project, { host, port, rows, cols, shape, viewedAsDone, leaseMs: lease * 1000 });
      io.stdout.write(`annotating ${project.imageCount} images at ${server.url} (Ctrl+C stops)\n`);
      if (host !== '127.0.0.1' && host !== 'localhost' && host !== '::1') io.stderr.write('warning: the annotator has no authentication; anyone who can reach this address can edit\n');
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off('SIGINT', stop);
          process.off('SIGTERM', stop);
          resolve();
        };
        process.on('SIGINT', stop);
        process.on('SIGTERM', stop);
      });
      await server.close();
      io.stdout.write('stopped\n');
      return 0;
    } finally {
      await project.close();
    }
  }
  try {
    if (sub === 'status') {
      const status = projectStatus(project, { viewedAsDone: project.viewedAsDone });
      if (flagOption(args, 'json')) {
        io.stdout.write(JSON.stringify({ project: projectDir, viewedAsDone: project.viewedAsDone, classes: project.classes, ...status }) + '\n');
        return 0;
      }
      const lines = [
        `project:   ${projectDir}${project.viewedAsDone ? ' (viewed counts as done)' : ''}`,
        `images:    total ${status.total}, done ${status.done}, todo ${status.todo}`,
        `           viewed ${status.viewed}, verified ${status.verified}, with shapes ${status.withShapes}`,
        `shapes:    ${status.shapes}`,
        `classes:   ${project.classes.length === 0 ? '(none)' : project.classes.join(', ')}`,
        `changes:   ${project.logLength} logged`,
      ];
      const users = Object.entries(status.byAnnotator).sort((a, b) => b[1].changes - a[1].changes);
      if (users.length > 0) lines.push('by annotator:', ...users.map(([user, a]) => `  ${user}: ${a.shapesCreated} shapes created, ${a.changes} changes, ${a.images} images`));
      io.stdout.write(lines.join('\n') + '\n');
      return 0;
    }
    if (sub === 'export') {
      const format = choiceOption(args, 'format', ['picpac', ...EXCHANGE_FORMATS] as const, cmd) ?? 'picpac';
      const all = flagOption(args, 'all');
      const overwrite = flagOption(args, 'overwrite');
      if (format === 'picpac') {
        if (flagOption(args, 'labels-only')) throw new UsageError('--labels-only applies to --format coco|voc|yolo|w3c', cmd);
        const report = await exportProjectPicpac(project, third, { all, overwrite });
        io.stdout.write(`exported ${report.recordCount} images, ${report.shapeCount} shapes to ${third}${report.classes.length > 0 ? ` (classes: ${report.classes.map((c, k) => `${k + 1}=${c}`).join(' ')})` : ''}\n`);
      } else {
        const report = await exportProjectAs(project, third, format, { all, overwrite, withImages: !flagOption(args, 'labels-only') });
        io.stdout.write(`exported ${report.recordCount} images, ${report.shapeCount} shapes to ${third} as ${format}\n`);
        for (const note of report.notes ?? []) io.stdout.write(`${note}\n`);
        for (const [what, count] of Object.entries(report.losses ?? {})) io.stderr.write(`warning: ${count} ${what}\n`);
      }
      return 0;
    }
    // import
    const format = choiceOption(args, 'format', EXCHANGE_FORMATS, cmd);
    if (format === undefined) throw new UsageError(`import needs --format ${EXCHANGE_FORMATS.join('|')}`, cmd);
    const { set } = await readAnnotatedSet(third, format as ExchangeFormat);
    const report = await importIntoProject(project, set, { user: stringOption(args, 'user') ?? 'import' });
    for (const name of report.unmatched.slice(0, 20)) io.stderr.write(`warning: ${name}: no image of that name in the project; skipped\n`);
    if (report.unmatched.length > 20) io.stderr.write(`warning: ... and ${report.unmatched.length - 20} more\n`);
    io.stdout.write(`imported ${report.shapes} shapes into ${report.matched} images (${report.unmatched.length} unmatched)\n`);
    return 0;
  } finally {
    await project.close();
  }
}

/** Read a comma list or a file of names (export --classes). */
export async function readClassList(value: string): Promise<string[]> {
  if (value.includes(',') || !(await readFile(value, 'utf8').then(() => true, () => false))) return value.split(',').map((c) => c.trim()).filter((c) => c !== '');
  return (await readFile(value, 'utf8')).split(/\r?\n/).map((c) => c.trim()).filter((c) => c !== '');
}
