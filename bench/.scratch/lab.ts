import { rgbToLab, labToRgb, rgbToHsv, hsvToRgb } from '../../src/augment/color.ts';
const steps = Array.from({ length: 36 }, (_, i) => 40 + i * 5);
const data: number[] = [];
for (const b of steps) for (const g of steps) for (const r of steps) data.push(r, g, b);
const img = { width: data.length / 3, height: 1, channels: 3 as const, data: Uint8Array.from(data) };
for (const [name, f, inv] of [['lab', rgbToLab, labToRgb], ['hsv', rgbToHsv, hsvToRgb]] as const) {
  const conv = f(img); const back = inv(conv);
  let worst = 0, wi = 0; const hist = new Map<number, number>();
  for (let i = 0; i < img.data.length; i += 3) {
    let d = 0; for (let k = 0; k < 3; k++) d = Math.max(d, Math.abs(back.data[i + k] - img.data[i + k]));
    hist.set(d, (hist.get(d) ?? 0) + 1);
    if (d > worst) { worst = d; wi = i; }
  }
  console.log(name, worst, Array.from(img.data.subarray(wi, wi + 3)), Array.from(conv.data.subarray(wi, wi + 3)), Array.from(back.data.subarray(wi, wi + 3)), [...hist].sort((a, b) => a[0] - b[0]));
}
