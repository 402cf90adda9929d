import {PicpacReader} from '/work/wt-dur/src/engine/picpac/picpac-reader.ts';
const r=await PicpacReader.open(process.argv[2]); console.log('index', r.indexOffset, 'rec5', r.columns.frameOffset[5], 'ann5', r.columns.annotationOffset[5], 'rec6', r.columns.frameOffset[6]);
