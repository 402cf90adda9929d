// Node entry (`import … from 'picpac'`): everything in the browser-safe entry plus files,
// HTTP, PicPac 1.0, the training stream and its pixel kernels.
export * from './index.ts';
export * from './engine/index.ts';
export { V1Reader } from './engine/v1/v1-reader.ts';
export { V1Writer } from './engine/v1/v1-writer.ts';
export { Rng, deriveSeed } from './engine/rng.ts';
export { kfoldSelect } from './engine/kfold.ts';
export { parseStreamConfig, configToQuery, describeConfig } from './augment/config.ts';
export type { StreamConfig } from './augment/config.ts';
export { Sampler } from './augment/sampling/sampler.ts';
export { launcherShare } from './augment/sampling/launcher-env.ts';
export { ImageStream } from './augment/stream/stream.ts';
export { prestartStreamWorkers, stopSpareWorkers } from './augment/stream/spare-workers.ts';
export { decodeImage, decodeImageSync } from './augment/pixels/decode.ts';
export { adoptNativeGuard, createNativeGuard, stopNativeCalls } from './augment/pixels/native-guard.ts';
export { parseAnnotation } from './augment/annotation.ts';
export { rasterizeAnnotation } from './augment/pixels/rasterize.ts';
export { transcodeStore } from './augment/pixels/transcode.ts';
export { ViewerServer } from './server/server.ts';
