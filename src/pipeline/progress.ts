/**
 * Progress for long work: a redrawn bar on an interactive terminal, JSON lines (one object per
 * event on stderr) with `--log json`, and nothing but the final summary otherwise (CI logs).
 */
export type LogFormat = "text" | "json";

export interface ProgressEvent {
  event: "start" | "progress" | "done" | "info";
  task: string;
  done?: number;
  total?: number;
  message?: string;
  elapsedSeconds?: number;
}

export interface Progress {
  start(task: string, total: number): void;
  advance(task: string, done: number): void;
  finish(task: string, message?: string): void;
  info(message: string): void;
}

export function createProgress(format: LogFormat, stream: NodeJS.WriteStream = process.stderr): Progress {
  return format === "json" ? new JsonLinesProgress(stream) : new BarProgress(stream);
}

class JsonLinesProgress implements Progress {
  private readonly t0 = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private readonly lastEmit = new Map<string, number>();
  constructor(private readonly stream: NodeJS.WritableStream) {}
  private emit(e: ProgressEvent): void {
    this.stream.write(JSON.stringify(e) + "\n");
  }
  private elapsed(task: string): number {
    return Math.round((performance.now() - (this.t0.get(task) ?? performance.now())) / 10) / 100;
  }
  start(task: string, total: number): void {
    this.t0.set(task, performance.now());
    this.totals.set(task, total);
    this.emit({ event: "start", task, total });
  }
  advance(task: string, done: number): void {
    const now = performance.now();
    const total = this.totals.get(task) ?? 0;
    // At most ~4 lines a second per task, plus always the last one.
    if (done < total && now - (this.lastEmit.get(task) ?? 0) < 250) return;
    this.lastEmit.set(task, now);
    this.emit({ event: "progress", task, done, total, elapsedSeconds: this.elapsed(task) });
  }
  finish(task: string, message?: string): void {
    this.emit({ event: "done", task, message, elapsedSeconds: this.elapsed(task) });
  }
  info(message: string): void {
    this.emit({ event: "info", task: "", message });
  }
}

class BarProgress implements Progress {
  private readonly t0 = new Map<string, number>();
  private readonly totals = new Map<string, number>();
  private lastDraw = 0;
  constructor(private readonly stream: NodeJS.WriteStream) {}
  private get tty(): boolean {
    return Boolean(this.stream.isTTY);
  }
  start(task: string, total: number): void {
    this.t0.set(task, performance.now());
    this.totals.set(task, total);
    if (this.tty) this.draw(task, 0);
  }
  advance(task: string, done: number): void {
    if (!this.tty) return;
    const now = performance.now();
    if (now - this.lastDraw < 80 && done < (this.totals.get(task) ?? 0)) return;
    this.lastDraw = now;
    this.draw(task, done);
  }
  private draw(task: string, done: number): void {
    const total = Math.max(1, this.totals.get(task) ?? 1);
    const width = 28;
    const filled = Math.round((width * Math.min(done, total)) / total);
    const secs = (performance.now() - (this.t0.get(task) ?? 0)) / 1000;
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    this.stream.write(`\r\x1b[2K${task.padEnd(18).slice(0, 18)} ${bar} ${done}/${total} ${secs.toFixed(1)}s`);
  }
  finish(task: string, message?: string): void {
    const secs = (performance.now() - (this.t0.get(task) ?? performance.now())) / 1000;
    if (this.tty) this.stream.write("\r\x1b[2K");
    if (this.tty || message)
      this.stream.write(`${task}: done in ${secs.toFixed(1)}s${message ? ` (${message})` : ""}\n`);
  }
  info(message: string): void {
    this.stream.write(message + "\n");
  }
}

/** A Progress that records nothing (library use and tests). */
export const silentProgress: Progress = {
  start: () => undefined,
  advance: () => undefined,
  finish: () => undefined,
  info: () => undefined,
};
