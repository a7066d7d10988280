/**
 * Outputs are written under a temporary name beside the final one and renamed when complete,
 * so a crash or a validation error never leaves a partial file under the final name (DESIGN.md,
 * "Nothing lost"). rename(2) within one directory is atomic on POSIX filesystems.
 */
import fs from "node:fs";
import path from "node:path";

export function temporaryPathFor(finalPath: string): string {
  const dir = path.dirname(finalPath);
  return path.join(
    dir,
    `.${path.basename(finalPath)}.tmp-${process.pid}-${Math.random().toString(36).slice(2, 8)}`,
  );
}

/** Runs `write` against a temporary path, then renames it to `finalPath`; removes the temporary on failure. */
export function writeAtomically<T>(finalPath: string, write: (tmpPath: string) => T): T {
  const tmp = temporaryPathFor(finalPath);
  try {
    const result = write(tmp);
    fs.renameSync(tmp, finalPath);
    return result;
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

export async function writeAtomicallyAsync<T>(
  finalPath: string,
  write: (tmpPath: string) => Promise<T>,
): Promise<T> {
  const tmp = temporaryPathFor(finalPath);
  try {
    const result = await write(tmp);
    fs.renameSync(tmp, finalPath);
    return result;
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    throw err;
  }
}

/**
 * Refuses an output directory that exists and is not empty (writeDirectoryAtomically's rule), so a
 * long command can fail before its work rather than at the end.
 */
export function assertNewDirectory(finalDir: string): void {
  const final = path.resolve(finalDir);
  if (fs.existsSync(final) && (!fs.statSync(final).isDirectory() || fs.readdirSync(final).length > 0))
    throw new InputError(
      finalDir,
      "exists and is not empty; give a new output directory (it is written whole, then renamed into place)",
    );
}

/**
 * Writes a whole directory: `write` fills a fresh temporary directory beside `finalDir`, which is
 * then renamed to `finalDir`; on failure the temporary is removed, so a failure at any point
 * leaves nothing under the final name. `finalDir` may already exist only as an empty directory
 * (it is replaced); anything else there is refused rather than mixed with the new files.
 */
export async function writeDirectoryAtomically<T>(
  finalDir: string,
  write: (tmpDir: string) => T | Promise<T>,
): Promise<T> {
  assertNewDirectory(finalDir);
  const final = path.resolve(finalDir);
  fs.mkdirSync(path.dirname(final), { recursive: true });
  const tmp = temporaryPathFor(final);
  fs.mkdirSync(tmp);
  try {
    const result = await write(tmp);
    if (fs.existsSync(final)) fs.rmdirSync(final);
    fs.renameSync(tmp, final);
    return result;
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
}

/** Fails early, naming the path, when an output directory does not exist or is not writable. */
export function assertWritableDestination(finalPath: string): void {
  const dir = path.dirname(path.resolve(finalPath));
  let stat: fs.Stats;
  try {
    stat = fs.statSync(dir);
  } catch {
    throw new InputError(finalPath, `output directory ${dir} does not exist`);
  }
  if (!stat.isDirectory()) throw new InputError(finalPath, `${dir} is not a directory`);
  try {
    fs.accessSync(dir, fs.constants.W_OK);
  } catch {
    throw new InputError(finalPath, `output directory ${dir} is not writable`);
  }
}

/** An error caused by a file or value the user supplied; the CLI prints it as one line. */
export class InputError extends Error {
  constructor(
    readonly subject: string,
    readonly problem: string,
  ) {
    super(`${subject}: ${problem}`);
    this.name = "InputError";
  }
}
