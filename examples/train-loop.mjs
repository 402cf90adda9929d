// Feed a training loop from the stream: decoded, augmented float batches (NHWC) with the
// annotations rendered as label images, on worker threads, deterministic for a seed.
// Usage: node train-loop.mjs FILE.picpac [STEPS]
import { ImageStream } from 'picpac';

const [file, stepsText = '5'] = process.argv.slice(2);
if (!file) {
  console.error('usage: node train-loop.mjs FILE.picpac [STEPS]');
  process.exit(2);
}

const stream = await ImageStream.open(file, {
  batch: 4, resize_width: 64, resize_height: 64, // every image to 64×64
  annotate: 'json', // label image: the annotation's shapes filled
  perturb: 1, pert_angle: 10, pert_hflip: 1, // augmentation
  threads: 2, seed: 2016,
});
// A stand-in for a model: one weight per channel, trained to predict the label image's mean.
let weight = 0;
for (let step = 0; step < Number(stepsText); step++) {
  const batch = await stream.next(); // { images, imageShape: [n, h, w, c], labels, labelShape, count, position }
  if (!batch) break; // only when the stream does not loop (loop: 0)
  const mean = (a) => a.reduce((s, v) => s + v, 0) / a.length;
  const x = mean(batch.images) / 255;
  const y = mean(batch.labels);
  const loss = (weight * x - y) ** 2;
  weight -= 0.5 * 2 * (weight * x - y) * x;
  console.log(`step ${step}: batch ${batch.imageShape.join('x')}, labels ${batch.labelShape.join('x')}, loss ${loss.toFixed(4)}`);
}
await stream.close();
