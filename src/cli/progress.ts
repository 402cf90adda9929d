// A progress line on stderr: count/total, rate and ETA. On a TTY the line is redrawn in place
// at most 10 times a second; otherwise (logs, CI, tests) a plain line at most once a second
// plus a final one, so a log never fills with carriage returns.

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** Word after the count, e.g. 'images'. */
  unit?: string;
  /** Clock in milliseconds (injectable for tests). */
  now?: () => number;
  /** Minimum milliseconds between redraws: default 100 on a TTY, 1000 otherwise. */
  intervalMs?: number;
}

export class Progress {
  private readonly stream: ProgressStream;
  private readonly label: string;
  private readonly unit: string;
  private readonly now: () => number;
  private readonly tty: boolean;
  private readonly intervalMs: number;
  private readonly startMs: number;
  private lastDrawMs = -Infinity;
  private total: number | undefined;
  private count = 0;
  private extra = '';
  private finished = false;

  constructor(stream: ProgressStream, label: string, total: number | undefined, options: ProgressOptions = {}) {
    this.stream = stream;
    this.label = label;
    this.total = total;
    this.unit = options.unit ?? 'items';
    this.now = options.now ?? (() => performance.now());
    this.tty = stream.isTTY === true;
    this.intervalMs = options.intervalMs ?? (this.tty ? 100 : 1000);
    this.startMs = this.now();
  }

  setTotal(total: number | undefined): void {
    this.total = total;
  }

  /** Advance to `count` (absolute); `extra` is appended to the line (e.g. "3 skipped"). */
  update(count: number, extra = ''): void {
    this.count = count;
    this.extra = extra;
    const t = this.now();
    if (t - this.lastDrawMs < this.intervalMs) return;
    this.lastDrawMs = t;
    this.draw(false);
  }

  /** Print a message (a warning) without tearing the progress line. */
  log(text: string): void {
    if (this.tty) this.stream.write('\r\x1b[K');
    this.stream.write(text.endsWith('\n') ? text : `${text}\n`);
    if (this.tty && !this.finished) this.draw(false);
  }

  /** Draw the final line (always) and end it with a newline. */
  finish(extra?: string): void {
    if (this.finished) return;
    this.finished = true;
    if (extra !== undefined) this.extra = extra;
    this.draw(true);
  }

  /** The text of the current line, without control characters. */
  line(): string {
    const elapsedS = Math.max((this.now() - this.startMs) / 1000, 1e-9);
    const rate = this.count / elapsedS;
    const parts = [this.label];
    if (this.total !== undefined && this.total > 0) {
      const fraction = Math.min(this.count / this.total, 1);
      parts.push(`${bar(fraction, 20)} ${this.count}/${this.total} ${this.unit}`);
    } else {
      parts.push(`${this.count} ${this.unit}`);
    }
    parts.push(`${formatRate(rate)}/s`);
    if (this.total !== undefined && this.count < this.total && rate > 0) {
      parts.push(`ETA ${formatDuration((this.total - this.count) / rate)}`);
    } else {
      parts.push(formatDuration(elapsedS));
    }
    if (this.extra) parts.push(this.extra);
    return parts.join('  ');
  }

  private draw(final: boolean): void {
    let text = this.line();
    if (this.tty) {
      const columns = this.stream.columns ?? 100;
      if (text.length > columns - 1) text = text.slice(0, columns - 1);
      this.stream.write(`\r${text}\x1b[K${final ? '\n' : ''}`);
    } else {
      this.stream.write(`${text}\n`);
    }
  }
}

function bar(fraction: number, width: number): string {
  const filled = Math.round(fraction * width);
  return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
}

function formatRate(rate: number): string {
  return rate >= 100 ? rate.toFixed(0) : rate.toFixed(1);
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  if (seconds < 60) return `${seconds.toFixed(1)}s`;
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0 ? `${h}h${String(m).padStart(2, '0')}m` : `${m}m${String(r).padStart(2, '0')}s`;
}
