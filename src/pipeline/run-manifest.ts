/**
 * The run manifest: what a run was asked to do (config, input checksums, software version) and
 * every unit it finished, with its row count and checksum. While the run is going it is a
 * journal of JSON lines beside the partial output (header line, then one line per unit, each
 * appended only after the unit's data is on disk); re-running the same command reads it and
 * skips finished units. On success it becomes one JSON document beside the output.
 */
import fs from "node:fs";
import { writeAtomically } from "../io/atomic-file.js";
import { SOFTWARE_NAME, SOFTWARE_VERSION } from "../version.js";

export interface UnitRecord {
  unit: number;
  rows: number;
  sha256: string;
}

export interface RunManifest {
  format: "mocksmith-run-manifest";
  formatVersion: 1;
  software: { name: string; version: string };
  /** Everything that determines the output; a resume requires it to be identical. */
  config: Record<string, unknown>;
  /** sha256 of each input, keyed by role ("input", "model", …). */
  inputs: Record<string, string>;
  units: UnitRecord[];
  startedAt: string;
  finishedAt?: string;
  /** How many times the run was resumed. */
  resumes: number;
}

interface JournalHeader {
  format: "mocksmith-run-journal";
  software: { name: string; version: string };
  config: Record<string, unknown>;
  inputs: Record<string, string>;
  startedAt: string;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(",")}]`;
  if (value && typeof value === "object") {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}

export type JournalOpening =
  { status: "new" } | { status: "resumed"; finished: number } | { status: "restarted"; reason: string };

export class RunJournal {
  private readonly finished = new Map<number, UnitRecord>();
  private resumes = 0;
  private header!: JournalHeader;
  opening: JournalOpening = { status: "new" };

  private constructor(readonly path: string) {}

  /**
   * Opens the journal at `path`: resumes it when its config, inputs and software version match,
   * otherwise (or when `canResume` is false, e.g. the partial output is missing) starts afresh.
   */
  static open(
    path: string,
    config: Record<string, unknown>,
    inputs: Record<string, string>,
    canResume: boolean,
  ): RunJournal {
    const j = new RunJournal(path);
    const header: JournalHeader = {
      format: "mocksmith-run-journal",
      software: { name: SOFTWARE_NAME, version: SOFTWARE_VERSION },
      config,
      inputs,
      startedAt: new Date().toISOString(),
    };
    if (fs.existsSync(path)) {
      const reason = canResume ? j.load(header) : "its partial output is missing";
      if (reason === undefined) {
        j.opening = { status: "resumed", finished: j.finished.size };
        j.resumes++;
        fs.appendFileSync(path, JSON.stringify({ resumedAt: new Date().toISOString() }) + "\n");
        return j;
      }
      j.finished.clear();
      j.opening = { status: "restarted", reason };
    }
    j.header = header;
    fs.writeFileSync(path, JSON.stringify(header) + "\n");
    return j;
  }

  /** Reads an existing journal; returns why it cannot be resumed, or undefined. */
  private load(expected: JournalHeader): string | undefined {
    const lines = fs.readFileSync(this.path, "utf8").split("\n");
    let header: JournalHeader;
    try {
      header = JSON.parse(lines[0]) as JournalHeader;
    } catch {
      return "its journal header is unreadable";
    }
    if (header.format !== "mocksmith-run-journal") return "its journal is not a mocksmith run journal";
    if (canonical(header.software) !== canonical(expected.software))
      return `it was started by ${header.software?.name} ${header.software?.version}`;
    if (canonical(header.config) !== canonical(expected.config))
      return "it was started with a different configuration";
    if (canonical(header.inputs) !== canonical(expected.inputs)) return "its inputs have changed since";
    this.header = header;
    for (const line of lines.slice(1)) {
      if (line.trim() === "") continue;
      let rec: Partial<UnitRecord> & { resumedAt?: string };
      try {
        rec = JSON.parse(line) as Partial<UnitRecord>;
      } catch {
        continue; // a line cut short by a kill: that unit is simply redone
      }
      if (rec.resumedAt) this.resumes++;
      else if (Number.isInteger(rec.unit) && Number.isInteger(rec.rows) && typeof rec.sha256 === "string")
        this.finished.set(rec.unit as number, rec as UnitRecord);
    }
    return undefined;
  }

  isFinished(unit: number): boolean {
    return this.finished.has(unit);
  }

  get finishedCount(): number {
    return this.finished.size;
  }

  record(rec: UnitRecord): void {
    this.finished.set(rec.unit, rec);
    fs.appendFileSync(this.path, JSON.stringify(rec) + "\n");
  }

  /** Writes the final manifest to `manifestPath` and removes the journal. */
  complete(manifestPath: string): RunManifest {
    const manifest: RunManifest = {
      format: "mocksmith-run-manifest",
      formatVersion: 1,
      software: this.header.software,
      config: this.header.config,
      inputs: this.header.inputs,
      units: [...this.finished.values()].sort((a, b) => a.unit - b.unit),
      startedAt: this.header.startedAt,
      finishedAt: new Date().toISOString(),
      resumes: this.resumes,
    };
    writeAtomically(manifestPath, (tmp) => fs.writeFileSync(tmp, JSON.stringify(manifest, null, 2) + "\n"));
    fs.rmSync(this.path, { force: true });
    return manifest;
  }
}
