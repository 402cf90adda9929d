import sharp from 'sharp';
const g = new Uint8Array(48*32).map((_, i) => i % 256);
const b = await sharp(g, { raw: { width: 48, height: 32, channels: 1 } }).toColourspace('b-w').png().toBuffer();
console.log(await sharp(b).metadata().then(m => [m.channels, m.space]));
const { Transformer } = (await import('@napi-rs/image')).default ?? await import('@napi-rs/image');
console.log(new Transformer(b).rawPixelsSync().length);
const b16 = await sharp(new Uint16Array(48*32*3).fill(1000), { raw: { width: 48, height: 32, channels: 3 , depth: 'ushort'} }).toColourspace('rgb16').png().toBuffer();
console.log(await sharp(b16).metadata().then(m => [m.channels, m.space, m.depth]));
const r = await sharp(b16).raw().toBuffer({resolveWithObject:true}); console.log(r.info, r.data.length, Array.from(r.data.subarray(0,6)));
