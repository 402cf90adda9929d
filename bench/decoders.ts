// Side-by-side JPEG decoder throughput (REFERENCE §4.2): which decoder the per-sample hot path
// should use. Real photographs (bench/lib/photo-set.ts crops of ../shared/photos, JPEG q90),
// held in memory; each decoder runs the same bytes in the same process, interleaved in rounds
// so machine noise hits all of them alike. Run: node --import tsx bench/decoders.ts [--quick]
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { cpus } from 'node:os';
import { photoSet } from './lib/photo-set.ts';

const machineLine = (): string => `node ${process.version}, ${process.platform}/${process.arch}, ${cpus().length} cores`;

const require = createRequire(import.meta.url);
const quick = process.argv.includes('--quick');
const IN_FLIGHT = 8;

type Decoder = { name: string; run: (inputs: Uint8Array[]) => Promise<number> };

function loadNapi(): Decoder[] {
  let Transformer: any;
  try {
    ({ Transformer } = require('@napi-rs/image'));
  } catch {
    return [];
  }
  return [
    {
      name: '@napi-rs/image rawPixelsSync (1 core)',
      run: async (inputs) => {
        let bytes = 0;
        for (const b of inputs) bytes += new Transformer(b).rawPixelsSync().length;
        return bytes;
      },
    },
    {
      name: `@napi-rs/image rawPixels async, ${IN_FLIGHT} in flight`,
      run: (inputs) => inFlight(inputs, async (b) => (await new Transformer(b).rawPixels()).length),
    },
  ];
}

async function loadJsquash(): Promise<Decoder[]> {
  try {
    const g = globalThis as any;
    if (g.ImageData === undefined) {
      g.ImageData = class ImageData {
        constructor(public data: Uint8ClampedArray, public width: number, public height: number) {}
      };
    }
    const mod: any = await import('@jsquash/jpeg/decode.js');
    const wasmPath = require.resolve('@jsquash/jpeg/codec/dec/mozjpeg_dec.wasm');
    await mod.init(await (globalThis as any).WebAssembly.compile(readFileSync(wasmPath)));
    const decode = mod.default;
    return [{
      name: '@jsquash/jpeg (wasm, 1 core)',
      run: async (inputs) => {
        let bytes = 0;
        for (const b of inputs) {
          const ab = b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength);
          bytes += (await decode(ab)).data.length;
        }
        return bytes;
      },
    }];
  } catch (e) {
    console.log(`# @jsquash/jpeg unavailable: ${(e as Error).message}`);
    return [];
  }
}

function loadJpegJs(): Decoder[] {
  try {
    const jpeg = require('jpeg-js');
    return [{
      name: 'jpeg-js (pure JS, 1 core)',
      run: async (inputs) => {
        let bytes = 0;
        for (const b of inputs) bytes += jpeg.decode(b, { useTArray: true, formatAsRGBA: false }).data.length;
        return bytes;
      },
    }];
  } catch {
    return [];
  }
}

async function inFlight(inputs: Uint8Array[], one: (b: Uint8Array) => Promise<number>): Promise<number> {
  let next = 0;
  let bytes = 0;
  const worker = async () => {
    while (next < inputs.length) {
      const produced = await one(inputs[next++]);
      bytes += produced; // not `bytes += await`: that reads `bytes` before the await
    }
  };
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  return bytes;
}

const sharpDecoders: Decoder[] = [
  {
    name: 'sharp raw(), 1 in flight',
    run: async (inputs) => {
      let bytes = 0;
      for (const b of inputs) bytes += (await sharp(b).raw().toBuffer()).length;
      return bytes;
    },
  },
  {
    name: `sharp raw(), ${IN_FLIGHT} in flight`,
    run: (inputs) => inFlight(inputs, async (b) => (await sharp(b).raw().toBuffer()).length),
  },
];

async function main(): Promise<void> {
  sharp.cache(false);
  const decoders = [...sharpDecoders, ...loadNapi(), ...(await loadJsquash()), ...loadJpegJs()];
  const sizes: Array<[number, number, number]> = [[256, 256, 2000], [500, 375, 1000]];
  console.log(`# ${machineLine()}; sharp concurrency ${sharp.concurrency()}, UV_THREADPOOL_SIZE ${process.env.UV_THREADPOOL_SIZE ?? '(4)'}`);
  const rows: string[] = [];
  for (const [w, h, count] of sizes) {
    const set = await photoSet(count, w, h);
    const take = quick ? 60 : 300;
    const inputs = set.files.slice(0, take).map((f) => new Uint8Array(readFileSync(f)));
    const avgKb = inputs.reduce((s, b) => s + b.length, 0) / inputs.length / 1024;
    console.log(`# ${w}x${h}: ${inputs.length} images, avg ${avgKb.toFixed(1)} KB, ${set.origin}`);
    const best = new Map<string, number>();
    const perCpu = new Map<string, number>();
    const rounds = quick ? 2 : 4;
    for (const d of decoders) await d.run(inputs.slice(0, 10)); // warm-up
    for (let r = 0; r < rounds; r++) {
      for (const d of decoders) {
        const subset = d.name.startsWith('jpeg-js') ? inputs.slice(0, Math.ceil(inputs.length / 4)) : inputs;
        const cpu0 = process.cpuUsage();
        const t0 = performance.now();
        const bytes = await d.run(subset);
        const seconds = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        const cpuSeconds = (cpu.user + cpu.system) / 1e6;
        if (bytes < subset.length * w * h) throw new Error(`${d.name}: short output`);
        const rate = subset.length / seconds;
        if (rate > (best.get(d.name) ?? 0)) {
          best.set(d.name, rate);
          perCpu.set(d.name, subset.length / cpuSeconds);
        }
      }
    }
    for (const d of decoders) rows.push(`| ${w}x${h} | ${d.name} | ${best.get(d.name)!.toFixed(0)} | ${perCpu.get(d.name)!.toFixed(0)} |`);
  }
  console.log('\n| size | decoder | img/s wall (best of rounds) | img/s per CPU-second (all threads) |\n|---|---|---|---|');
  console.log(rows.join('\n'));
}

await main();
