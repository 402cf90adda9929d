// The store conformance suite (suite.ts) against every backend.
import { join } from 'node:path';
import { PicpacReader } from '../../../src/engine/picpac/picpac-reader.ts';
import { PicpacWriter } from '../../../src/engine/picpac/picpac-writer.ts';
import { V1Reader } from '../../../src/engine/v1/v1-reader.ts';
import { V1Writer } from '../../../src/engine/v1/v1-writer.ts';
import { LmdbStore, LmdbWriter } from '../../../src/engine/lmdb/lmdb-store.ts';
import { runStoreConformance } from './suite.ts';

runStoreConformance('.picpac 2.0 compact', {
  format: 'picpac-2',
  image: 'encoded',
  pathFor: (dir, name) => join(dir, `${name}.picpac`),
  create: (path) => PicpacWriter.create(path),
  append: (path) => PicpacWriter.append(path),
  open: (path) => PicpacReader.open(path),
});

runStoreConformance('.picpac 2.0 aligned 4096', {
  format: 'picpac-2',
  image: 'encoded',
  pathFor: (dir, name) => join(dir, `${name}.picpac`),
  create: (path) => PicpacWriter.create(path, { alignment: 4096 }),
  append: (path) => PicpacWriter.append(path),
  open: (path) => PicpacReader.open(path),
});

runStoreConformance('PicPac 1.0 (compact)', {
  format: 'picpac-1',
  image: 'encoded',
  pathFor: (dir, name) => join(dir, `${name}.db`),
  create: (path) => V1Writer.create(path),
  open: (path) => V1Reader.open(path),
  cannot: {
    setAnnotation: 'format 1.0 has no side index: an annotation cannot change after its record is written',
    append: 'V1Writer cannot reopen a closed 1.0 file',
  },
});

runStoreConformance('LMDB encoded', {
  format: 'lmdb-encoded',
  image: 'encoded',
  pathFor: (dir, name) => join(dir, `${name}.lmdb`),
  create: (path) => LmdbWriter.create(path, { mode: 'encoded', noSync: true }),
  append: (path) => LmdbWriter.append(path, { noSync: true }),
  open: (path) => LmdbStore.open(path),
});

runStoreConformance('LMDB raw', {
  format: 'lmdb-raw',
  image: 'raw',
  pathFor: (dir, name) => join(dir, `${name}.lmdb`),
  create: (path) => LmdbWriter.create(path, { mode: 'raw', noSync: true }),
  append: (path) => LmdbWriter.append(path, { noSync: true }),
  open: (path) => LmdbStore.open(path),
});
