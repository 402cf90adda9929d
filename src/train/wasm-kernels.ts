// Gradient kernels the TensorFlow.js wasm backend (4.22) lacks or runs slowly, built from the
// backend's own fast kernels (XNNPACK Conv2D, Transpose, Slice, Reverse) — REFERENCE §4.4:
//
// - Conv2DBackpropFilter (missing: model training fails without it). The filter gradient of a
//   convolution is itself a convolution with batch and channels swapped:
//     dW[kh, kw, ci, co] = Σ_{b, oh, ow} x[b, oh·s + kh - pt, ow·s + kw - pl, ci] · dy[b, oh, ow, co]
//   = conv2d(x' = x transposed to [Ci, H, W, B], dy' = dy transposed to [OH, OW, B, Co],
//            dilations = s, strides = 1, explicit padding) → [Ci, KH', KW', Co] sliced to KH × KW
//   and transposed back to [KH, KW, Ci, Co].
// - Conv2DBackpropInput with strides 1 (the backend's own kernel is a plain loop): the input
//   gradient is a correlation of dy with the filter flipped in space and with in/out channels
//   swapped: dx = conv2d(dy, W'[kh, kw, co, ci] = W[KH-1-kh, KW-1-kw, ci, co], padding
//   (KH-1-pt, KW-1-pl) …). Other strides fall back to the backend's kernel.
// - MaxPoolGrad (the backend's own is a slow generic loop, a quarter of an fcn-tiny step): one
//   pass over the output cells in JS on the wasm heap, routing each dy to the first maximum of
//   its window in scan order — the cpu backend's rule, so ties resolve the same way.
//
// tfjs itself rejects gradients of dilated convolutions ("dilation rates greater than 1 are not
// yet supported in gradients"), so neither attribute set carries dilations.
import * as tf from '@tensorflow/tfjs';
import type { KernelConfig, KernelFunc, NamedAttrMap, TensorInfo } from '@tensorflow/tfjs';

type KernelBackend = Parameters<KernelFunc>[0]['backend'];

interface Ops {
  backend: KernelBackend;
  run(name: string, inputs: Record<string, TensorInfo>, attrs: NamedAttrMap): TensorInfo;
  free(info: TensorInfo): void;
}

/** The kernels registered by this module, for the record (params.json) and tests. */
export const WASM_GRADIENT_KERNELS = ['Conv2DBackpropFilter', 'Conv2DBackpropInput', 'MaxPoolGrad'] as const;

interface WasmHeapBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array;
}

let originalBackpropInput: KernelConfig | undefined;
let registered = false;

function opsFor(backend: KernelBackend): Ops {
  return {
    backend,
    run(name, inputs, attrs) {
      const config = tf.getKernel(name, 'wasm');
      if (config === undefined) throw new Error(`wasm backend has no ${name} kernel`);
      return config.kernelFunc({ inputs, backend, attrs }) as TensorInfo;
    },
    free(info) {
      (backend as unknown as { disposeData(dataId: object): void }).disposeData(info.dataId);
    },
  };
}

interface PadInfo {
  top: number;
  left: number;
  bottom: number;
  right: number;
}

function convInfo(xShape: number[], filterShape: number[], strides: number | [number, number], pad: unknown, dimRoundingMode: unknown) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    strides,
    1,
    pad as 'same' | 'valid',
    dimRoundingMode as 'floor' | undefined,
    false,
    'channelsLast',
  );
}

function conv2DBackpropFilterWasm(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } = args.attrs as unknown as {
    strides: number | [number, number]; pad: unknown; dataFormat: string; dimRoundingMode: unknown; filterShape: [number, number, number, number];
  };
  if (dataFormat !== undefined && dataFormat !== 'NHWC') throw new Error(`Conv2DBackpropFilter (wasm): dataFormat ${dataFormat} is not supported; use NHWC`);
  const ops = opsFor(args.backend);
  const info = convInfo(x.shape, filterShape, strides, pad, dimRoundingMode);
  const [batch, inHeight, inWidth, inChannels] = x.shape;
  const { outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth, outChannels } = info;
  const padInfo = info.padInfo as PadInfo;
  // Rows read by the forward pass reach (KH-1) + (OH-1)·s - pt; pad the bottom so the trick's
  // output has at least KH rows (negative = unused input rows, sliced off below).
  const bottom = Math.max(0, filterHeight - 1 + (outHeight - 1) * strideHeight - padInfo.top - (inHeight - 1));
  const right = Math.max(0, filterWidth - 1 + (outWidth - 1) * strideWidth - padInfo.left - (inWidth - 1));
  const xT = ops.run('Transpose', { x }, { perm: [3, 1, 2, 0] }); // [Ci, H, W, B]
  const dyT = ops.run('Transpose', { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, B, Co]
  const conv = ops.run('Conv2D', { x: xT, filter: dyT }, {
    strides: [1, 1],
    pad: [[0, 0], [padInfo.top, bottom], [padInfo.left, right], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [strideHeight, strideWidth],
    dimRoundingMode: undefined as unknown as string,
  } as unknown as NamedAttrMap); // [Ci, KH', KW', Co]
  ops.free(xT);
  ops.free(dyT);
  let cropped = conv;
  if (conv.shape[1] !== filterHeight || conv.shape[2] !== filterWidth) {
    cropped = ops.run('Slice', { x: conv }, { begin: [0, 0, 0, 0], size: [inChannels, filterHeight, filterWidth, outChannels] });
    ops.free(conv);
  }
  const out = ops.run('Transpose', { x: cropped }, { perm: [1, 2, 0, 3] }); // [KH, KW, Ci, Co]
  ops.free(cropped);
  void batch;
  return out;
}

function conv2DBackpropInputWasm(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const { strides, pad, dataFormat, dimRoundingMode, inputShape } = args.attrs as unknown as {
    strides: number | [number, number]; pad: unknown; dataFormat: string; dimRoundingMode: unknown; inputShape: [number, number, number, number];
  };
  const info = convInfo(inputShape, filter.shape, strides, pad, dimRoundingMode);
  const padInfo = info.padInfo as PadInfo;
  const { strideHeight, strideWidth, filterHeight, filterWidth, outHeight, outWidth } = info;
  const padTop = filterHeight - 1 - padInfo.top;
  const padLeft = filterWidth - 1 - padInfo.left;
  const padBottom = inputShape[1] - 1 + padInfo.top - (outHeight - 1);
  const padRight = inputShape[2] - 1 + padInfo.left - (outWidth - 1);
  const simple = strideHeight === 1 && strideWidth === 1 && (dataFormat === undefined || dataFormat === 'NHWC') &&
    padTop >= 0 && padLeft >= 0 && padBottom >= 0 && padRight >= 0;
  if (!simple) return originalBackpropInput!.kernelFunc(args) as TensorInfo;
  const ops = opsFor(args.backend);
  const flipped = ops.run('Reverse', { x: filter }, { dims: [0, 1] });
  const swapped = ops.run('Transpose', { x: flipped }, { perm: [0, 1, 3, 2] }); // [KH, KW, Co, Ci]
  ops.free(flipped);
  const out = ops.run('Conv2D', { x: dy, filter: swapped }, {
    strides: [1, 1],
    pad: [[0, 0], [padTop, padBottom], [padLeft, padRight], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [1, 1],
    dimRoundingMode: undefined as unknown as string,
  } as unknown as NamedAttrMap);
  ops.free(swapped);
  return out;
}

function maxPoolGradWasm(args: Parameters<KernelFunc>[0]): TensorInfo {
  const { dy, input } = args.inputs as { dy: TensorInfo; input: TensorInfo };
  const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as {
    filterSize: number | [number, number]; strides: number | [number, number]; pad: 'same' | 'valid' | number; dimRoundingMode: 'floor' | undefined;
  };
  const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize, strides, 1, pad, dimRoundingMode);
  const backend = args.backend as unknown as WasmHeapBackend;
  const out = backend.makeOutput(input.shape, 'float32');
  // Views after makeOutput: an allocation may grow (and move) the heap.
  const dx = backend.typedArrayFromHeap(out);
  dx.fill(0);
  const x = backend.typedArrayFromHeap(input);
  const g = backend.typedArrayFromHeap(dy);
  const { batchSize, inHeight, inWidth, inChannels, outHeight, outWidth, strideHeight, strideWidth, filterHeight, filterWidth } = info;
  const padTop = (info.padInfo as PadInfo).top;
  const padLeft = (info.padInfo as PadInfo).left;
  const C = inChannels;
  for (let b = 0; b < batchSize; b++) {
    const xBase = b * inHeight * inWidth * C;
    for (let yR = 0; yR < outHeight; yR++) {
      const r0 = Math.max(0, yR * strideHeight - padTop);
      const r1 = Math.min(inHeight, yR * strideHeight - padTop + filterHeight);
      for (let yC = 0; yC < outWidth; yC++) {
        const c0 = Math.max(0, yC * strideWidth - padLeft);
        const c1 = Math.min(inWidth, yC * strideWidth - padLeft + filterWidth);
        const yBase = ((b * outHeight + yR) * outWidth + yC) * C;
        for (let d = 0; d < C; d++) {
          let best = -Infinity;
          let at = -1;
          for (let r = r0; r < r1; r++) {
            for (let c = c0; c < c1; c++) {
              const i = xBase + (r * inWidth + c) * C + d;
              if (x[i] > best) {
                best = x[i];
                at = i;
              }
            }
          }
          if (at >= 0) dx[at] += g[yBase + d];
        }
      }
    }
  }
  return out;
}

/**
 * Register the wasm gradient kernels (idempotent). Call after `@tensorflow/tfjs-backend-wasm` is
 * imported. `fastBackpropInput` (default true) replaces the stride-1 Conv2DBackpropInput.
 */
export function registerWasmGradientKernels(options: { fastBackpropInput?: boolean } = {}): string[] {
  if (registered) return [...WASM_GRADIENT_KERNELS];
  const names: string[] = [];
  if (tf.getKernel('Conv2DBackpropFilter', 'wasm') === undefined) {
    tf.registerKernel({ kernelName: 'Conv2DBackpropFilter', backendName: 'wasm', kernelFunc: conv2DBackpropFilterWasm as unknown as KernelFunc });
    names.push('Conv2DBackpropFilter');
  }
  originalBackpropInput = tf.getKernel('Conv2DBackpropInput', 'wasm');
  if ((options.fastBackpropInput ?? true) && originalBackpropInput !== undefined) {
    tf.unregisterKernel('Conv2DBackpropInput', 'wasm');
    tf.registerKernel({
      kernelName: 'Conv2DBackpropInput',
      backendName: 'wasm',
      setupFunc: originalBackpropInput.setupFunc,
      kernelFunc: conv2DBackpropInputWasm as unknown as KernelFunc,
    });
    names.push('Conv2DBackpropInput');
  }
  if (tf.getKernel('MaxPoolGrad', 'wasm') !== undefined) tf.unregisterKernel('MaxPoolGrad', 'wasm');
  tf.registerKernel({ kernelName: 'MaxPoolGrad', backendName: 'wasm', kernelFunc: maxPoolGradWasm as unknown as KernelFunc });
  names.push('MaxPoolGrad');
  registered = true;
  return names;
}
