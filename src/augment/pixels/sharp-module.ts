// sharp, loaded on first use. Imported statically by the modules that encode (viewer renders,
// thumbnails, transcoding), it made every `import 'picpac'` load libvips and its addon (18 MB of
// shared libraries; `import('sharp')` alone takes 65–90 ms here), though most programs (a
// training stream) never encode an image. `picpac stream --dump` uses it too.
import type sharpFunction from 'sharp';

let loading: Promise<typeof sharpFunction> | undefined;

/** The sharp function, importing the package the first time it is asked for. */
export function loadSharp(): Promise<typeof sharpFunction> {
  loading ??= import('sharp').then((module) => module.default);
  return loading;
}
