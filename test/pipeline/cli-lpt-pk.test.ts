/** The lpt and pk commands end to end through the compiled CLI (npm test builds dist/ first). */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { writeNpyFloat32 } from "../../src/io/npy.js";
import { CLI, runCliAsync } from "../cli-process.js";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-cli-"));

/**
 * Async, so the vitest worker stays responsive; each test's few small runs take seconds alone,
 * hence the generous 300 s timeouts for a loaded 2-core machine.
 */
async function run(...args: string[]) {
  const r = await runCliAsync(...args);
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Nothing but the named files in the directory (no temporaries, no partial outputs). */
function listing(): string[] {
  return fs.readdirSync(dir).sort();
}

beforeAll(() => {
  if (!fs.existsSync(CLI)) throw new Error("dist/ is missing: run `npm run build` (npm test does)");
});

describe("mocksmith lpt", () => {
  it("writes a float32 .npy and its sidecar, and pk reads them back", async () => {
    const out = path.join(dir, "box.npy");
    const r = await run("lpt", "--grid", "32", "--box", "256", "--z", "0.5", "--seed", "4", "-o", out);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/wrote .*box\.npy/);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, "box.json"), "utf8"));
    expect(meta).toMatchObject({
      kind: "delta",
      shape: [32, 32, 32],
      boxSize: 256,
      redshift: 0.5,
      seed: 4,
    });
    expect(fs.statSync(out).size).toBe(128 + 4 * 32 ** 3);
    const pk = await run("pk", out, "--json");
    expect(pk.code, pk.stderr).toBe(0);
    const table = JSON.parse(pk.stdout);
    expect(table.compensate).toBe("cic"); // from the sidecar
    expect(table.rows.length).toBeGreaterThan(20);
    // First shell: |k| in [k_F, 2 k_F) (Pylians binning), k_F = 2π/256.
    const kf = (2 * Math.PI) / 256;
    expect(table.rows[0].k).toBeGreaterThanOrEqual(kf);
    expect(table.rows[0].k).toBeLessThan(2 * kf);
  }, 300_000);

  it("is bitwise reproducible across thread counts", async () => {
    const a = path.join(dir, "t1.npy");
    const b = path.join(dir, "t2.npy");
    expect((await run("lpt", "--grid", "24", "--box", "100", "--threads", "1", "-o", a)).code).toBe(0);
    expect((await run("lpt", "--grid", "24", "--box", "100", "--threads", "2", "-o", b)).code).toBe(0);
    expect(fs.readFileSync(a).equals(fs.readFileSync(b))).toBe(true);
  }, 300_000);

  it.each([
    [["--grid", "14", "--box", "100"], /prime factor above 5/],
    [["--grid", "16", "--box", "0"], /--box/],
    [["--grid", "16", "--box", "-5"], /--box/],
    [["--grid", "16", "--box", "100", "--z", "-1"], /--z/],
    [["--grid", "16", "--box", "abc"], /--box/],
  ])(
    "rejects %j with one clear line and no output",
    async (args, message) => {
      const before = listing();
      const r = await run("lpt", ...args, "-o", path.join(dir, "bad.npy"));
      expect(r.code).not.toBe(0);
      expect(r.stderr).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(listing()).toEqual(before);
    },
    300_000,
  );

  it("rejects white noise of the wrong shape or dtype, naming the file", async () => {
    const wrongShape = path.join(dir, "noise-shape.npy");
    writeNpyFloat32(wrongShape, new Float32Array(8 * 8 * 4).fill(0.5), [8, 8, 4]);
    const wrongDtype = path.join(dir, "noise-dtype.npy");
    const header = Buffer.from(
      "\x93NUMPY\x01\x00v\x00{'descr': '<i4', 'fortran_order': False, 'shape': (8, 8, 8), }",
      "latin1",
    );
    const padded = Buffer.concat([header, Buffer.alloc(128 - header.length - 1, " "), Buffer.from("\n")]);
    fs.writeFileSync(wrongDtype, Buffer.concat([padded, Buffer.alloc(4 * 512)]));
    const before = listing();
    for (const [file, msg] of [
      [wrongShape, /shape \(8, 8, 4\), expected \(8, 8, 8\)/],
      [wrongDtype, /dtype '<i4'/],
    ] as const) {
      const r = await run(
        "lpt",
        "--grid",
        "8",
        "--box",
        "100",
        "--noise",
        file,
        "-o",
        path.join(dir, "n.npy"),
      );
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(file);
      expect(r.stderr).toMatch(msg);
    }
    expect(listing()).toEqual(before);
  }, 300_000);

  it("rejects an unwritable output location", async () => {
    const r = await run("lpt", "--grid", "8", "--box", "100", "-o", path.join(dir, "missing-dir", "x.npy"));
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/does not exist/);
  }, 300_000);
});

describe("mocksmith pk", () => {
  it("refuses a truncated file, a non-cubic grid, NaN values and a missing box size", async () => {
    const good = path.join(dir, "plain.npy");
    writeNpyFloat32(good, new Float32Array(8 ** 3), [8, 8, 8]);
    const truncated = path.join(dir, "trunc.npy");
    fs.writeFileSync(truncated, fs.readFileSync(good).subarray(0, 1000));
    const flat = path.join(dir, "flat.npy");
    writeNpyFloat32(flat, new Float32Array(8 * 8 * 4), [8, 8, 4]);
    const nan = path.join(dir, "nan.npy");
    const v = new Float32Array(8 ** 3);
    v[77] = NaN;
    writeNpyFloat32(nan, v, [8, 8, 8]);
    expect((await run("pk", good)).stderr).toMatch(/pass --box/);
    expect((await run("pk", truncated, "--box", "10")).stderr).toMatch(/trunc\.npy: truncated/);
    expect((await run("pk", flat, "--box", "10")).stderr).toMatch(/cubic/);
    expect((await run("pk", nan, "--box", "10")).stderr).toMatch(
      /nan\.npy: non-finite value .* flat index 77/,
    );
    expect((await run("pk", good, "--box", "10")).code).toBe(0);
  }, 300_000);

  it("refuses cross spectra of grids with different voxel sizes", async () => {
    const a = path.join(dir, "va.npy");
    const b = path.join(dir, "vb.npy");
    expect((await run("lpt", "--grid", "16", "--box", "100", "-o", a)).code).toBe(0);
    expect((await run("lpt", "--grid", "16", "--box", "120", "-o", b)).code).toBe(0);
    const r = await run("pk", a, "--cross", b);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/voxel sizes must match/);
  }, 300_000);

  it("has --help for every command", async () => {
    for (const c of ["lpt", "pk"]) {
      const r = await run(c, "--help");
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/Usage: mocksmith/);
    }
  }, 300_000);
});
