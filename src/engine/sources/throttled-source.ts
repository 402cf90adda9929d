// A live device model: a ByteSource that wraps another and makes each read take the time a
// stated device would (a seek when the read does not continue the previous one, plus bytes /
// sequential throughput), sleeping in real time. The device is one resource: concurrent reads
// queue behind each other. Used by the storage benchmark to run readers "on an HDD" without one.
//
// Sleeps shorter than a timer can express are not lost: the device keeps a clock (busyUntil)
// and a read only waits once the clock runs ahead of real time by more than `minSleepMs`, so
// over a pass the elapsed time converges on the modelled time; `settle()` waits out the rest.
import { setTimeout as sleep } from 'node:timers/promises';
import { invalidParameterError } from '../../errors.ts';
import type { ByteSource, ReadCounter } from './byte-source.ts';

/** A storage device as a benchmark models it: sequential throughput (bytes/s) and seek time (s). */
export interface DeviceModel {
  name: string;
  /** Sustained sequential read rate. */
  sequentialBytesPerSecond: number;
  /** Time to position before a read that does not continue the previous one. */
  seekSeconds: number;
}

/** Round figures for three device classes (REFERENCE §3.12.2). */
export const DEVICE_MODELS = {
  hdd: { name: 'HDD (7200 rpm)', sequentialBytesPerSecond: 160e6, seekSeconds: 8e-3 },
  sataSsd: { name: 'SATA SSD', sequentialBytesPerSecond: 550e6, seekSeconds: 1e-4 },
  nvme: { name: 'NVMe (PCIe 3.0)', sequentialBytesPerSecond: 3e9, seekSeconds: 2e-5 },
} as const satisfies Record<string, DeviceModel>;

/** What a modelled device served: reads, bytes, seeks, and the device time they cost. */
export interface DeviceCounter {
  reads: number;
  bytesRead: number;
  seeks: number;
  /** Device time charged so far, seconds. */
  modeledSeconds: number;
}

export function validateDeviceModel(device: DeviceModel): DeviceModel {
  if (typeof device !== 'object' || device === null) throw invalidParameterError('device', 'a DeviceModel object', device);
  if (typeof device.name !== 'string') throw invalidParameterError('device.name', 'a string', device.name);
  if (!(typeof device.sequentialBytesPerSecond === 'number' && device.sequentialBytesPerSecond > 0 && Number.isFinite(device.sequentialBytesPerSecond))) {
    throw invalidParameterError('device.sequentialBytesPerSecond', 'a positive finite number', device.sequentialBytesPerSecond);
  }
  if (!(typeof device.seekSeconds === 'number' && device.seekSeconds >= 0 && Number.isFinite(device.seekSeconds))) {
    throw invalidParameterError('device.seekSeconds', 'a non-negative finite number', device.seekSeconds);
  }
  return Object.freeze({ ...device });
}

/**
 * The clock of one modelled device. `charge` books a transfer and resolves when the device
 * would have delivered it. Backends that do not read through a ByteSource (LMDB reads through
 * mmap) charge it directly, per value.
 */
export class DeviceClock {
  readonly device: DeviceModel;
  readonly counter: DeviceCounter = { reads: 0, bytesRead: 0, seeks: 0, modeledSeconds: 0 };
  private readonly minSleepMs: number;
  private busyUntilMs = 0;

  /** @param [options.minSleepMs=2] smallest lag worth a timer (shorter lags accumulate) */
  constructor(device: DeviceModel, options?: { minSleepMs?: number }) {
    this.device = validateDeviceModel(device);
    const minSleepMs = options?.minSleepMs ?? 2;
    if (typeof minSleepMs !== 'number' || !(minSleepMs >= 0)) throw invalidParameterError('options.minSleepMs', 'a non-negative number', minSleepMs);
    this.minSleepMs = minSleepMs;
  }

  /** Device time of a transfer, seconds. */
  cost(byteLength: number, sequential: boolean): number {
    return (sequential ? 0 : this.device.seekSeconds) + byteLength / this.device.sequentialBytesPerSecond;
  }

  /** Book a transfer; resolves once real time has caught up with the device (within minSleepMs). */
  async charge(byteLength: number, sequential: boolean): Promise<void> {
    const seconds = this.cost(byteLength, sequential);
    const c = this.counter;
    c.reads++;
    c.bytesRead += byteLength;
    if (!sequential) c.seeks++;
    c.modeledSeconds += seconds;
    const now = performance.now();
    this.busyUntilMs = Math.max(this.busyUntilMs, now) + seconds * 1000;
    const lagMs = this.busyUntilMs - now;
    if (lagMs > this.minSleepMs) await sleep(lagMs);
  }

  /** Wait until every booked transfer would have completed. */
  async settle(): Promise<void> {
    const lagMs = this.busyUntilMs - performance.now();
    if (lagMs > 0) await sleep(lagMs);
  }
}

/**
 * A {@link ByteSource} that makes each read of `inner` take as long as on a modelled device
 * (seek unless it continues the previous read, plus bytes / throughput), sleeping in real time;
 * concurrent reads queue. For benchmarks: "this reader on an HDD" without an HDD.
 * @throws TypeError when `inner` is not a ByteSource or the device model is invalid.
 */
export class ThrottledSource implements ByteSource {
  readonly clock: DeviceClock;
  private readonly inner: ByteSource;
  /** End of the previous read: a read starting here continues it (no seek). */
  private headOffset = -1;

  constructor(inner: ByteSource, device: DeviceModel | DeviceClock, options?: { minSleepMs?: number }) {
    if (typeof inner !== 'object' || inner === null || typeof inner.read !== 'function') throw invalidParameterError('inner', 'a ByteSource', inner);
    this.inner = inner;
    this.clock = device instanceof DeviceClock ? device : new DeviceClock(device, options);
  }

  get name(): string {
    return `${this.inner.name} (on ${this.clock.device.name})`;
  }

  get byteLength(): number {
    return this.inner.byteLength;
  }

  get device(): DeviceModel {
    return this.clock.device;
  }

  /** Device counters (reads, bytes, seeks, modelled seconds): machine-independent (STYLE §36). */
  get counter(): DeviceCounter & ReadCounter {
    return this.clock.counter;
  }

  async read(byteOffset: number, byteLength: number): Promise<Uint8Array> {
    const sequential = byteOffset === this.headOffset;
    this.headOffset = byteOffset + byteLength;
    const [bytes] = await Promise.all([this.inner.read(byteOffset, byteLength), this.clock.charge(byteLength, sequential)]);
    return bytes;
  }

  refresh(): Promise<number> {
    return this.inner.refresh();
  }

  /** Wait until every read so far would have completed on the device (call before stopping a timer). */
  settle(): Promise<void> {
    return this.clock.settle();
  }

  /** Close the wrapped source. */
  close(): Promise<void> {
    return this.inner.close();
  }
}
