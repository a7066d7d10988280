/**
 * A real single-node Slurm cluster (deploy/slurm/local-cluster.sh: munged, slurmctld, slurmd on
 * localhost) runs a 3-shard `nbody-set` job array and its dependent merge job through
 * deploy/slurm/submit.sh; the merged set must equal the single-process set. Then one shard's job
 * is killed mid-run, which must cancel the merge; resubmitting only that shard completes the
 * dataset with nothing lost or duplicated. Skips (saying why) without root or slurm-wlm.
 */
import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SHARD_MANIFEST } from "../../src/pipeline/shard.js";
import { datasetDifferences } from "../pipeline/dataset-equality.js";
import { spawnAsync, type ProcessResult } from "../cli-process.js";

const onPath = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const skipReason = !["slurmctld", "slurmd", "sbatch", "munged"].every(onPath)
  ? "slurm-wlm and munge are not installed (apt-get install -y slurm-wlm munge)"
  : process.getuid?.() !== 0
    ? "the local Slurm cluster needs root"
    : undefined;
if (skipReason) console.warn(`test/deploy/slurm.test.ts skipped: ${skipReason}`);

const cluster = path.resolve("deploy/slurm/local-cluster.sh");
const submit = path.resolve("deploy/slurm/submit.sh");
const cli = path.resolve("dist/src/pipeline/cli/main.js");
const setArgs = ["nbody-set", "--sims", "6", "--grid", "16", "--box", "64", "--steps", "2", "--voxel", "8"];
const WAIT_MS = 120_000;

describe.skipIf(skipReason !== undefined)(
  `Slurm job array + merge${skipReason ? ` (skipped: ${skipReason})` : ""}`,
  () => {
    // Named now, made in beforeAll, so that a skipped run leaves nothing behind.
    const root = path.join(os.tmpdir(), `mocksmith-slurm-${process.pid}-${Date.now().toString(36)}`);
    const state = path.join(root, "cluster");
    const env = {
      ...process.env,
      SLURM_CONF: path.join(state, "slurm.conf"),
      MOCKSMITH: `${process.execPath} ${cli}`,
    };
    /** Quick queries (squeue, scontrol, scancel): synchronous is fine, they return in milliseconds. */
    const sh = (cmd: string, args: string[], timeout = 30_000): SpawnSyncReturns<string> =>
      spawnSync(cmd, args, { env, encoding: "utf8", timeout });
    /**
     * Anything that may take seconds (cluster start/stop, submission, the reference run) runs
     * asynchronously: a blocked vitest worker misses its RPC deadlines (`Timeout calling "onTaskUpdate"`).
     */
    const shAsync = (cmd: string, args: string[], timeoutMs = 60_000): Promise<ProcessResult> =>
      spawnAsync(cmd, args, { env, timeoutMs });
    const jobStates = (jobId: string): Map<string, string> => {
      const r = sh("scontrol", ["-o", "show", "job", jobId]);
      const states = new Map<string, string>();
      for (const line of r.stdout.split("\n").filter(Boolean)) {
        const task = /ArrayTaskId=(\d+)/.exec(line)?.[1];
        states.set(task ?? "job", /JobState=(\S+)/.exec(line)?.[1] ?? "?");
      }
      return states;
    };
    const waitFor = async (what: string, done: () => boolean) => {
      const deadline = Date.now() + WAIT_MS;
      while (!done()) {
        if (Date.now() > deadline) {
          const logs = fs.existsSync(path.join(state, "log")) ? fs.readdirSync(path.join(state, "log")) : [];
          throw new Error(
            `timed out after ${WAIT_MS / 1000} s waiting for ${what}; cluster logs: ${logs.join(", ")} in ${state}/log`,
          );
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    };
    const queueEmpty = () => sh("squeue", ["-h", "-o", "%i"]).stdout.trim() === "";
    const submitSet = async (work: string, output: string, only?: string) => {
      const r = await shAsync(submit, [
        "-n",
        "3",
        "-w",
        work,
        "-o",
        output,
        ...(only ? ["--only", only] : []),
        "--",
        ...setArgs,
      ]);
      expect(r.status, r.stderr).toBe(0);
      const [array, merge] = r.stdout.trim().split(/\s+/);
      return { array, merge };
    };

    beforeAll(async () => {
      fs.mkdirSync(root, { mode: 0o700 });
      const r = await shAsync(cluster, ["start", state], 90_000);
      if (r.status !== 0)
        throw new Error(`local Slurm cluster did not start: ${r.error?.message ?? r.stderr}`);
      const ref = await spawnAsync(process.execPath, [cli, ...setArgs, "-o", path.join(root, "single")]);
      if (ref.status !== 0) throw new Error(`single-process reference failed: ${ref.stderr}`);
    }, 600_000);

    afterAll(async () => {
      const stopped = await shAsync(cluster, ["stop", state], 60_000);
      if (stopped.status === 0) fs.rmSync(root, { recursive: true, force: true });
    }, 120_000);

    it("runs a 3-shard array and its afterok merge; the merged set equals the single-process set", async () => {
      const work = path.join(root, "run1");
      const out = path.join(root, "merged1");
      const { array, merge } = await submitSet(work, out);
      await waitFor("the array and merge jobs to finish", queueEmpty);
      expect([...jobStates(array).values()]).toEqual(["COMPLETED", "COMPLETED", "COMPLETED"]);
      expect(jobStates(merge).get("job")).toBe("COMPLETED");
      expect(datasetDifferences(path.join(root, "single"), out, ["dataset-manifest.json"])).toEqual([]);
    }, 300_000);

    it("after a shard's job is killed, rerunning only that shard completes the dataset", async () => {
      const work = path.join(root, "run2");
      const out = path.join(root, "merged2");
      const first = await submitSet(work, out);
      // Kill shard 1 once it has started writing (its directory exists), i.e. mid-run.
      await waitFor("shard 1 to start", () => fs.existsSync(path.join(work, "shard-00001")));
      expect(sh("scancel", [`${first.array}_1`]).status).toBe(0);
      await waitFor("the first submission to leave the queue", queueEmpty);
      const states = jobStates(first.array);
      expect(states.get("1")).toBe("CANCELLED");
      expect(states.get("0")).toBe("COMPLETED");
      expect(states.get("2")).toBe("COMPLETED");
      expect(jobStates(first.merge).get("job")).not.toBe("COMPLETED"); // afterok never satisfied
      expect(fs.existsSync(out)).toBe(false);
      expect(fs.existsSync(path.join(work, "shard-00001", SHARD_MANIFEST))).toBe(false);

      const rerun = await submitSet(work, out, "1");
      await waitFor("the rerun and merge to finish", queueEmpty);
      expect([...jobStates(rerun.array).values()]).toEqual(["COMPLETED"]);
      expect(jobStates(rerun.merge).get("job")).toBe("COMPLETED");
      expect(datasetDifferences(path.join(root, "single"), out, ["dataset-manifest.json"])).toEqual([]);
      const manifest = JSON.parse(fs.readFileSync(path.join(out, "dataset-manifest.json"), "utf8"));
      const paths: string[] = manifest.files.map((f: { path: string }) => f.path);
      expect(new Set(paths).size).toBe(paths.length);
    }, 600_000);
  },
);
