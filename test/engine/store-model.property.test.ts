// Model-based test (STYLE §28): random command sequences against the writer + a live reader,
// checked against a plain array model.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fc from 'fast-check';
import { recordWithAnnotation } from '../arbitraries.ts';
import type { DecodedRecord } from '../../src/format/types.ts';
import { PicpacWriter } from '../../src/engine/picpac/picpac-writer.ts';
import { PicpacReader } from '../../src/engine/picpac/picpac-reader.ts';
import { plainDecoded, plainStored, tempDir, toNewRecord } from './helpers.ts';

type Rec = DecodedRecord & { annotation?: string };
interface Model {
  records: Rec[];
}
interface Real {
  file: string;
  writer: PicpacWriter;
  reader: PicpacReader;
}
type Cmd = fc.AsyncCommand<Model, Real>;

let dir: string;
let cleanup: () => Promise<void>;
before(async () => ({ dir, cleanup } = await tempDir()));
after(() => cleanup());

class AppendCmd implements Cmd {
  constructor(readonly record: Rec) {}
  check = () => true;
  async run(m: Model, r: Real) {
    const index = await r.writer.append(toNewRecord(this.record));
    assert.equal(index, m.records.length);
    m.records.push({ ...this.record });
  }
  toString = () => `append(${this.record.fields.length} fields${this.record.annotation ? ', annotated' : ''})`;
}

class SetAnnotationCmd implements Cmd {
  constructor(readonly pick: number, readonly text: string | undefined) {}
  check = (m: Readonly<Model>) => m.records.length > 0;
  async run(m: Model, r: Real) {
    const i = this.pick % m.records.length;
    await r.writer.setAnnotation(i, this.text);
    if (this.text === undefined || this.text === '') delete m.records[i].annotation;
    else m.records[i].annotation = this.text;
  }
  toString = () => `setAnnotation(${this.pick}, ${JSON.stringify(this.text)})`;
}

class ReopenCmd implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    await r.writer.close();
    r.writer = await PicpacWriter.append(r.file, { fsyncOnClose: false });
    assert.equal(r.writer.recordCount, m.records.length);
  }
  toString = () => 'close+reopen';
}

class GetCmd implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.records.length > 0;
  async run(m: Model, r: Real) {
    await r.writer.flush();
    await r.reader.refresh();
    const i = this.pick % m.records.length;
    assert.deepEqual(plainStored(await r.reader.get(i)), plainDecoded(m.records[i]));
    assert.equal(r.reader.meta(i).hasAnnotation, m.records[i].annotation !== undefined);
  }
  toString = () => `get(${this.pick})`;
}

class GetAnnotationCmd implements Cmd {
  constructor(readonly pick: number) {}
  check = (m: Readonly<Model>) => m.records.length > 0;
  async run(m: Model, r: Real) {
    await r.writer.flush();
    await r.reader.refresh();
    const i = this.pick % m.records.length;
    assert.equal(await r.reader.getAnnotation(i), m.records[i].annotation);
  }
  toString = () => `getAnnotation(${this.pick})`;
}

class ScanCmd implements Cmd {
  check = () => true;
  async run(m: Model, r: Real) {
    await r.writer.flush();
    assert.equal(await r.reader.refresh(), m.records.length);
    const got = [];
    for await (const rec of r.reader.scan({ chunkBytes: 4096 })) got.push(plainStored(rec));
    assert.deepEqual(got, m.records.map(plainDecoded));
  }
  toString = () => 'scan';
}

let counter = 0;
describe('store model [MODEL]', () => {
  test('append / setAnnotation / reopen / get / scan / getAnnotation agree with a Map model', async () => {
    const commands = [
      recordWithAnnotation().map((rec) => new AppendCmd(rec)),
      fc.tuple(fc.nat(), fc.option(fc.string({ maxLength: 20 }), { nil: undefined })).map(([p, t]) => new SetAnnotationCmd(p, t)),
      fc.constant(new ReopenCmd()),
      fc.nat().map((p) => new GetCmd(p)),
      fc.nat().map((p) => new GetAnnotationCmd(p)),
      fc.constant(new ScanCmd()),
    ];
    await fc.assert(
      fc.asyncProperty(fc.commands(commands, { maxCommands: 25 }), fc.constantFrom(1, 32), async (cmds, alignment) => {
        const file = path.join(dir, `model-${counter++}.picpac`);
        const writer = await PicpacWriter.create(file, { alignment, fsyncOnClose: false });
        await writer.flush();
        const reader = await PicpacReader.open(file, { recover: true });
        const real: Real = { file, writer, reader };
        await fc.asyncModelRun(() => ({ model: { records: [] }, real }), cmds);
        await real.writer.close();
        await real.reader.close();
      }),
      { seed: 42, numRuns: 60 },
    );
  });
});
