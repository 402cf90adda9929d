// Stand-in for file-source.ts in the browser bundle (scripts/build.mjs): there are no local
// files in a browser, so opening a path is refused with a pointer to FetchSource.
import { SourceError } from '../../errors.ts';

/** Browser stand-in: local paths cannot be opened; use FetchSource with a URL. */
export class FileSource {
  /** Always throws: a browser has no local files. */
  static async open(path: string): Promise<never> {
    throw new SourceError(`cannot open the local path ${path} in a browser; open a URL with FetchSource`);
  }
  /** Never called: no FileSource instance exists in a browser. */
  readInto(_target: Uint8Array, _byteOffset: number): Promise<number> {
    throw new SourceError('FileSource is not available in a browser');
  }
}
