// Report of the storage benchmark: the result shapes, the seed's table (images/s each device ×
// layout sustains = min(disk-limited, decode-limited)), the speed-goal checks, markdown and SVG.
import type { BackendKey } from './storage-backends.ts';
import type { StreamResult } from './storage-stream.ts';
import { groupedBarChart } from './svg-chart.ts';

export interface Rate {
  recordsPerSecond: number;
  megabytesPerSecond: number;
}

export interface DeviceRun {
  device: string;
  sequentialRecords: number;
  sequentialPerSecond: number;
  /** Sequential read + decode (JPEG) or tensor → Image (raw) on the calling thread. */
  sequentialDecodedPerSecond: number;
  randomRecords: number;
  randomPerSecond: number;
}

export interface BackendResult {
  label: string;
  payloadBytesPerImage: number;
  diskBytesPerImage: number;
  overheadPercent: number;
  writeRecordsPerSecond: number;
  writeMegabytesPerSecond: number;
  /** Including the JPEG decode for raw stores. */
  importRecordsPerSecond: number;
  sequentialHot: Rate;
  /** .picpac with verifyChecksums: false (LMDB and 1.0 have no checksums to verify). */
  sequentialHotUnchecked?: Rate;
  sequentialCold?: Rate;
  randomHotPerSecond: number;
  randomColdPerSecond?: number;
  devices: DeviceRun[];
}

export interface DatasetResult {
  name: string;
  width: number;
  height: number;
  recordCount: number;
  origin: string;
  jpegBytesPerImage: number;
  rawBytesPerImage: number;
  decode: { jpegPerSecond: number; jpegMegapixelsPerSecond: number; rawPerSecond: number };
  decodeAllSeconds: number;
  backends: Record<BackendKey, BackendResult>;
  baselines: Partial<Record<string, { megabytesPerSecond: number; recordsPerSecond?: number }>>;
  stream: Partial<Record<BackendKey, StreamResult>>;
  /** Side-by-side rounds for the sequential-read goal (picpacChecked, picpacUnchecked, lmdbStore, lmdbGetRange). */
  headToHead?: { hot: Record<string, Rate>; cold?: Record<string, Rate> };
}

export interface StorageReport {
  bench: 'storage';
  machine: string;
  command: string;
  quick: boolean;
  jpegQuality: number;
  /** Native CRC32C on one core, 13 kB buffers. */
  crc32cGigabytesPerSecond: number;
  coldCache: string;
  devices: Array<{ name: string; sequentialBytesPerSecond: number; seekSeconds: number }>;
  datasets: DatasetResult[];
  seedTable?: SeedRow[];
  goals?: Goal[];
}

export interface SeedRow {
  dataset: string;
  device: string;
  layout: string;
  diskLimited: number;
  cpuLimited: number;
  sustained: number;
  limitedBy: 'disk' | 'decode' | 'CPU (copy)';
  /** Measured live on the device model (read + decode on one core). */
  live?: number;
}

export interface Goal {
  goal: string;
  holds: boolean;
  detail: string;
}

const KEYS: BackendKey[] = ['lmdb-raw', 'lmdb-encoded', 'picpac-compact', 'picpac-aligned', 'picpac-1'];
const int = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '—' : Math.round(v).toLocaleString('en-US'));
const fixed = (v: number | undefined, digits = 1) => (v === undefined || !Number.isFinite(v) ? '—' : v.toFixed(digits));

export function seedTable(report: StorageReport): SeedRow[] {
  const rows: SeedRow[] = [];
  for (const d of report.datasets) {
    const compact = d.backends['picpac-compact'];
    const raw = d.backends['lmdb-raw'];
    for (const [k, device] of report.devices.entries()) {
      const bps = device.sequentialBytesPerSecond;
      const decode = d.decode.jpegPerSecond;
      const rawCpu = raw.sequentialHot.recordsPerSecond;
      const push = (layout: string, disk: number, cpu: number, cpuName: SeedRow['limitedBy'], live?: number) =>
        rows.push({ dataset: d.name, device: device.name, layout, diskLimited: disk, cpuLimited: cpu, sustained: Math.min(disk, cpu), limitedBy: disk <= cpu ? 'disk' : cpuName, live });
      push('JPEG in .picpac, sequential', bps / compact.diskBytesPerImage, decode, 'decode', compact.devices[k]?.sequentialDecodedPerSecond);
      push('raw pixels in LMDB, sequential', bps / raw.diskBytesPerImage, rawCpu, 'CPU (copy)', raw.devices[k]?.sequentialDecodedPerSecond);
      const randomLive = compact.devices[k] ? Math.min(compact.devices[k].randomPerSecond, decode) : undefined;
      push('JPEG, one random read per image', 1 / (device.seekSeconds + compact.diskBytesPerImage / bps), decode, 'decode', randomLive);
      push('raw pixels, one random read per image', 1 / (device.seekSeconds + raw.diskBytesPerImage / bps), rawCpu, 'CPU (copy)', raw.devices[k]?.randomPerSecond);
    }
  }
  return rows;
}

export function checkGoals(report: StorageReport, seed: SeedRow[]): Goal[] {
  const goals: Goal[] = [];
  for (const d of report.datasets) {
    const c = d.backends['picpac-compact'];
    goals.push({
      goal: `.picpac compact within 1 % of the JPEG payload (${d.name})`,
      holds: c.overheadPercent <= 1,
      detail: `${fixed(c.overheadPercent, 2)} % (${int(c.diskBytesPerImage)} B on disk per ${int(c.payloadBytesPerImage)} B JPEG); LMDB encoded ${fixed(d.backends['lmdb-encoded'].overheadPercent, 1)} %, LMDB raw ${fixed(d.backends['lmdb-raw'].overheadPercent, 1)} % over the pixels`,
    });
    for (const temp of ['hot', 'cold'] as const) {
      const h = d.headToHead?.[temp];
      if (!h) continue;
      const picpac = h.picpacChecked;
      const unchecked = h.picpacUnchecked as Rate | undefined;
      const best = Math.max(h.lmdbGetRange.recordsPerSecond, h.lmdbStore.recordsPerSecond);
      const checkedHolds = picpac.recordsPerSecond >= best;
      const uncheckedHolds = unchecked !== undefined && unchecked.recordsPerSecond >= best;
      goals.push({
        goal: `sequential .picpac ≥ LMDB getRange over the same JPEGs, ${temp} (${d.name})`,
        holds: checkedHolds,
        detail:
          `side by side: .picpac scan ${int(picpac.recordsPerSecond)} rec/s (${int(picpac.megabytesPerSecond)} MB/s) with CRC32C verified` +
          (unchecked ? `, ${int(unchecked.recordsPerSecond)} rec/s unchecked (LMDB's work: it has no checksums)` : '') +
          ` vs lmdb-js getRange ${int(h.lmdbGetRange.recordsPerSecond)} rec/s (${int(h.lmdbGetRange.megabytesPerSecond)} MB/s) and LmdbStore.scan ${int(h.lmdbStore.recordsPerSecond)} rec/s` +
          (checkedHolds
            ? ` (×${fixed(picpac.recordsPerSecond / best, 2)})`
            : uncheckedHolds
              ? ` — holds only without checksum verification: CRC32C runs at ${fixed(report.crc32cGigabytesPerSecond, 1)} GB/s per core here, ${fixed((d.jpegBytesPerImage / (report.crc32cGigabytesPerSecond * 1e9)) * 1e6, 1)} µs per ${int(d.jpegBytesPerImage)} B record, which alone caps a verifying one-core scan near ${int((report.crc32cGigabytesPerSecond * 1e9) / d.jpegBytesPerImage)} rec/s`
              : ''),
      });
    }
    const hdd = report.devices[0].name;
    const jpeg = seed.find((r) => r.dataset === d.name && r.device === hdd && r.layout.startsWith('JPEG in .picpac'));
    const raw = seed.find((r) => r.dataset === d.name && r.device === hdd && r.layout.startsWith('raw pixels in LMDB'));
    if (jpeg && raw) {
      const liveRatio = jpeg.live !== undefined && raw.live !== undefined ? jpeg.live / raw.live : undefined;
      goals.push({
        goal: `HDD model: JPEG in .picpac (sequential) sustains more images/s than raw pixels in LMDB (${d.name})`,
        holds: jpeg.sustained > raw.sustained && (liveRatio === undefined || liveRatio > 1),
        detail: `model ${int(jpeg.sustained)} vs ${int(raw.sustained)} img/s (×${fixed(jpeg.sustained / raw.sustained)}); live ${int(jpeg.live)} vs ${int(raw.live)} img/s (×${fixed(liveRatio)}). Why: raw pixels cost ${int(raw.diskLimited > 0 ? d.backends['lmdb-raw'].diskBytesPerImage : 0)} B/img on disk against ${int(d.backends['picpac-compact'].diskBytesPerImage)} B of JPEG (×${fixed(d.backends['lmdb-raw'].diskBytesPerImage / d.backends['picpac-compact'].diskBytesPerImage)}), so 160 MB/s delivers ${int(raw.diskLimited)} raw img/s while one core decodes ${int(d.decode.jpegPerSecond)} JPEG/s — JPEG is decode-bound above raw's disk bound`,
      });
    }
  }
  return goals;
}

function table(header: string[], rows: string[][]): string {
  return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

export function writeReport(report: StorageReport): { markdown: string; svg: string; summary: string } {
  const seed = seedTable(report);
  const goals = checkGoals(report, seed);
  report.seedTable = seed;
  report.goals = goals;
  const md: string[] = [];
  md.push('# Storage benchmark: LMDB (raw, encoded) vs .picpac (compact, aligned) vs PicPac 1.0', '');
  md.push(`- Command: \`${report.command}\``);
  md.push(`- Machine: ${report.machine}`);
  md.push(`- Data: ${report.datasets.map((d) => `${d.recordCount} × ${d.name} JPEG q${report.jpegQuality} (${d.origin}), avg ${int(d.jpegBytesPerImage)} B; raw ${int(d.rawBytesPerImage)} B (HWC RGB uint8)`).join('; ')}`);
  md.push(`- Cold cache: ${report.coldCache}`);
  md.push(`- CRC32C (native, one core): ${fixed(report.crc32cGigabytesPerSecond, 2)} GB/s — .picpac verifies every payload's CRC by default; LMDB and PicPac 1.0 have no checksums.`);
  md.push('- Hot = page cache warm, median of several passes; rates through the `Store` interface (records/s; MB/s of payload = JPEG or pixel bytes).');
  md.push('- Device models run live: reads sleep for seek (when not continuing the previous read) + bytes / throughput. The file formats read through `ThrottledSource` (a `ByteSource`, so exactly the bytes and seeks the reader issues are charged); LMDB reads through mmap, so each record is charged its value rounded to whole 4 KiB overflow pages, sequential when keys are consecutive, with up to 4 MiB booked ahead (standing in for kernel read-ahead). This asymmetry favours LMDB slightly (B-tree pages are not charged).');
  md.push('');
  for (const d of report.datasets) {
    md.push(`## ${d.name} (${d.recordCount} images)`, '');
    md.push(`Decode per core (tinybench, \`decodeImageSync\`, @napi-rs/image): **${int(d.decode.jpegPerSecond)} JPEG/s** (${int(d.decode.jpegMegapixelsPerSecond)} Mpx/s); raw tensor → Image: ${int(d.decode.rawPerSecond)}/s.`, '');
    md.push(table(
      ['backend', 'payload B/img', 'disk B/img', 'overhead', 'write rec/s', 'write MB/s', 'import rec/s (incl. decode)'],
      KEYS.map((k) => {
        const b = d.backends[k];
        return [b.label, int(b.payloadBytesPerImage), int(b.diskBytesPerImage), `${fixed(b.overheadPercent, 2)} %`, int(b.writeRecordsPerSecond), int(b.writeMegabytesPerSecond), int(b.importRecordsPerSecond)];
      }),
    ), '');
    md.push(table(
      ['backend', 'seq hot rec/s', 'seq hot MB/s', 'seq hot unchecked rec/s', 'seq cold rec/s', 'seq cold MB/s', 'random get hot /s', 'random get cold /s', 'stream img/s (inline)', 'stream img/s (2 threads)'],
      KEYS.map((k) => {
        const b = d.backends[k];
        const s = d.stream[k];
        return [b.label, int(b.sequentialHot.recordsPerSecond), int(b.sequentialHot.megabytesPerSecond), int(b.sequentialHotUnchecked?.recordsPerSecond), int(b.sequentialCold?.recordsPerSecond), int(b.sequentialCold?.megabytesPerSecond), int(b.randomHotPerSecond), int(b.randomColdPerSecond), s?.imagesPerSecond ? int(s.imagesPerSecond) : (s?.error ? `error: ${s.error.slice(0, 60)}` : '—'), int(s?.imagesPerSecondThreads2)];
      }),
    ), '');
    const bl = d.baselines;
    md.push(`Yardsticks: plain 4 MiB reads of the compact file ${int(bl.plainReadCompactHot?.megabytesPerSecond)} MB/s hot${bl.plainReadCompactCold ? `, ${int(bl.plainReadCompactCold.megabytesPerSecond)} MB/s cold` : ''}; lmdb-js \`getRange\` (no Store layer, zero-copy values) over LMDB encoded ${int(bl.lmdbGetRangeEncodedHot?.recordsPerSecond)} rec/s = ${int(bl.lmdbGetRangeEncodedHot?.megabytesPerSecond)} MB/s hot${bl.lmdbGetRangeEncodedCold ? `, ${int(bl.lmdbGetRangeEncodedCold.recordsPerSecond)} rec/s = ${int(bl.lmdbGetRangeEncodedCold.megabytesPerSecond)} MB/s cold` : ''}; over LMDB raw ${int(bl.lmdbGetRangeRawHot?.megabytesPerSecond)} MB/s hot${bl.lmdbGetRangeRawCold ? `, ${int(bl.lmdbGetRangeRawCold.megabytesPerSecond)} MB/s cold` : ''}.`, '');
    if (d.headToHead) {
      const names: Record<string, string> = { picpacChecked: '.picpac compact scan (CRC32C verified)', picpacUnchecked: '.picpac compact scan (verifyChecksums: false)', lmdbStore: 'LmdbStore.scan (encoded)', lmdbGetRange: 'lmdb-js getRange, bare (encoded)' };
      md.push('Sequential reads side by side (rounds alternate the contenders; medians):', '');
      md.push(table(['reader', 'hot rec/s', 'hot MB/s', 'cold rec/s', 'cold MB/s'], Object.keys(names).filter((k) => d.headToHead!.hot[k]).map((k) => [names[k], int(d.headToHead!.hot[k].recordsPerSecond), int(d.headToHead!.hot[k].megabytesPerSecond), int(d.headToHead!.cold?.[k]?.recordsPerSecond), int(d.headToHead!.cold?.[k]?.megabytesPerSecond)])), '');
    }
    md.push(`Live device models (images/s; "read" = sequential scan only, "+decode" = scan and decode on the calling thread, "random" = one get per random record):`, '');
    md.push(table(
      ['backend', ...report.devices.flatMap((dev) => [`${dev.name} read`, `${dev.name} +decode`, `${dev.name} random`])],
      KEYS.map((k) => [d.backends[k].label, ...d.backends[k].devices.flatMap((r) => [int(r.sequentialPerSecond), int(r.sequentialDecodedPerSecond), int(r.randomPerSecond)])]),
    ), '');
  }
  md.push('## The seed\'s table: images/s each combination sustains', '');
  md.push('sustained = min(disk-limited, CPU-limited) on ONE core. Disk-limited = device rate / bytes on disk per image (sequential), or 1 / (seek + bytes / rate) (random). CPU-limited = measured JPEG decode per core, or for raw pixels the measured hot LMDB raw scan (copying 192 KB+ per image). "live" = measured on the device model: sequential read + decode on the calling thread; for the random rows, the measured random-get rate (no decode) capped by the decode rate.', '');
  md.push(table(['data', 'device', 'layout', 'disk-limited', 'CPU-limited', 'sustained', 'limited by', 'live'], seed.map((r) => [r.dataset, r.device, r.layout, int(r.diskLimited), int(r.cpuLimited), `**${int(r.sustained)}**`, r.limitedBy, int(r.live)])), '');
  md.push('## Speed goals', '');
  md.push(table(['goal', 'holds', 'numbers'], goals.map((g) => [g.goal, g.holds ? 'yes' : '**no**', g.detail])), '');
  md.push('![images/s per backend per device](storage.svg)', '');
  const markdown = md.join('\n') + '\n';

  const groups = [...report.devices.map((d) => d.name.replace(/ \(.*\)$/, '')), 'page cache (stream)'];
  const svg = groupedBarChart({
    title: 'Images/s sustained: sequential read + decode on one core',
    subtitle: `${report.machine} — ${report.command}`,
    series: KEYS.map((k) => report.datasets[0]?.backends[k]?.label ?? k),
    yLabel: 'images/s (log scale)',
    logScale: true,
    panels: report.datasets.map((d) => ({
      title: `${d.name} JPEG q${report.jpegQuality} (${int(d.jpegBytesPerImage)} B) vs raw (${int(d.rawBytesPerImage)} B)`,
      groups,
      values: KEYS.map((k) => [...d.backends[k].devices.map((r) => r.sequentialDecodedPerSecond), d.stream[k]?.imagesPerSecond]),
    })),
  });

  const summary = readmeSummary(report, seed, goals);
  return { markdown, svg, summary };
}

/** The README-ready table: one line per backend and data set, plus the HDD verdict. */
export function readmeSummary(report: StorageReport, seed: SeedRow[], goals: Goal[]): string {
  const lines: string[] = [];
  lines.push(`Measured with \`${report.command}\` on ${report.machine} (${report.datasets[0]?.origin ?? ''}, JPEG q${report.jpegQuality}).`, '');
  const hdd = report.devices[0].name;
  lines.push(table(
    ['data', 'backend', 'disk/img', 'overhead', 'write img/s', 'seq hot img/s', 'seq cold img/s', 'random hot /s', `${hdd.replace(/ \(.*\)$/, '')} read+decode img/s`],
    report.datasets.flatMap((d) => KEYS.map((k) => {
      const b = d.backends[k];
      return [d.name, b.label, `${fixed(b.diskBytesPerImage / 1024)} KiB`, `${fixed(b.overheadPercent, 2)} %`, int(b.writeRecordsPerSecond), int(b.sequentialHot.recordsPerSecond), int(b.sequentialCold?.recordsPerSecond), int(b.randomHotPerSecond), int(b.devices[0]?.sequentialDecodedPerSecond)];
    })),
  ));
  lines.push('');
  for (const g of goals) lines.push(`- ${g.holds ? '✔' : '✘'} ${g.goal}: ${g.detail}`);
  void seed;
  return lines.join('\n');
}
