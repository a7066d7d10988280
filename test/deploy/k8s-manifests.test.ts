/**
 * deploy/k8s: the Indexed Job and merge Job are valid batch/v1 Jobs against the Kubernetes
 * OpenAPI schema (through the `kubernetes-models` package when installed), agree with each other
 * and with deploy/Dockerfile, and their shell commands — after Kubernetes' own $(VAR) expansion —
 * run shard i as `--shard i/N -o /data/work/shard-0000i` and merge exactly shards 0 … N−1.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { spawnAsync } from "../cli-process.js";

interface EnvVar {
  name: string;
  value?: string;
}
interface Container {
  image: string;
  command: string[];
  args: string[];
  env: EnvVar[];
}
interface JobManifest {
  apiVersion: string;
  kind: string;
  spec: {
    completionMode?: string;
    completions: number;
    template: {
      spec: {
        restartPolicy: string;
        securityContext: { runAsNonRoot: boolean; runAsUser: number };
        containers: Container[];
        volumes: { persistentVolumeClaim?: { claimName: string } }[];
      };
    };
  };
}

const load = (name: string) => parse(fs.readFileSync(path.join("deploy/k8s", name), "utf8")) as JobManifest;
const shards = load("indexed-job.yaml");
const merge = load("merge-job.yaml");
const container = (j: JobManifest) => j.spec.template.spec.containers[0];
const envOf = (j: JobManifest) => Object.fromEntries(container(j).env.map((e) => [e.name, e.value ?? ""]));

/** Kubernetes' expansion of command/args: $(NAME) of a defined variable → its value, $$ → $, else verbatim. */
function kubeExpand(s: string, env: Record<string, string>): string {
  return s.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) =>
    m === "$$" ? "$" : name !== undefined && name in env ? env[name] : m,
  );
}

/** Runs a container's command with a stand-in `mocksmith` that prints its arguments, one per line. */
async function runContainer(j: JobManifest, extraEnv: Record<string, string>): Promise<string[]> {
  const bin = fs.mkdtempSync(path.join(os.tmpdir(), "mocksmith-k8s-"));
  fs.writeFileSync(path.join(bin, "mocksmith"), '#!/bin/sh\nprintf "%s\\n" "$@"\n', { mode: 0o755 });
  fs.mkdirSync(path.join(bin, "data"));
  const env = { ...envOf(j), ...extraEnv };
  const c = container(j);
  const [exe, ...rest] = [...c.command, ...c.args].map((a) => kubeExpand(a, env));
  const r = await spawnAsync(exe, rest, { env: { PATH: `${bin}:${process.env.PATH}`, ...env } });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout.trim().split("\n");
}

// kubernetes-models ships the Kubernetes OpenAPI schemas compiled to validators.
const validatorModule = "kubernetes-models/batch/v1/Job";
let Job: (new (data: unknown) => { validate(): void }) | undefined;
try {
  Job = ((await import(validatorModule)) as { Job: new (data: unknown) => { validate(): void } }).Job;
} catch {
  console.warn(
    `deploy/k8s schema check skipped: ${validatorModule} is not installed (devDependency kubernetes-models)`,
  );
}

describe("deploy/k8s", () => {
  it("is an Indexed Job whose completions equal MOCKSMITH_SHARDS in both jobs", () => {
    for (const j of [shards, merge]) {
      expect([j.apiVersion, j.kind]).toEqual(["batch/v1", "Job"]);
      expect(j.spec.template.spec.restartPolicy).toBe("Never");
    }
    expect(shards.spec.completionMode).toBe("Indexed");
    expect(Number(envOf(shards).MOCKSMITH_SHARDS)).toBe(shards.spec.completions);
    expect(envOf(merge).MOCKSMITH_SHARDS).toBe(envOf(shards).MOCKSMITH_SHARDS);
    expect(container(merge).image).toBe(container(shards).image);
    const claims = (j: JobManifest) =>
      j.spec.template.spec.volumes.map((v) => v.persistentVolumeClaim?.claimName);
    expect(claims(merge)).toEqual(claims(shards));
  });

  it("runs shard i as --shard i/N into shard-0000i, and merges shards 0 … N−1", async () => {
    const n = shards.spec.completions;
    for (const i of [0, 3, n - 1]) {
      const argv = await runContainer(shards, { JOB_COMPLETION_INDEX: String(i) });
      expect(argv[0]).toBe("nbody-set");
      expect(argv.slice(-4)).toEqual([
        "--shard",
        `${i}/${n}`,
        "-o",
        `/data/work/shard-${String(i).padStart(5, "0")}`,
      ]);
    }
    const argv = await runContainer(merge, {
      MOCKSMITH_OUTPUT: path.join(os.tmpdir(), "mocksmith-k8s-out", "set"),
    });
    expect(argv[0]).toBe("merge");
    expect(argv.slice(1, -2)).toEqual(
      Array.from({ length: n }, (_, i) => `/data/work/shard-${String(i).padStart(5, "0")}`),
    );
  });

  it("runs as the Dockerfile's non-root user on a pinned Node image", () => {
    const docker = fs.readFileSync("deploy/Dockerfile", "utf8");
    expect(docker).toMatch(/^ARG NODE_IMAGE=node:20\.\d+\.\d+-bookworm-slim$/m);
    expect(docker).toMatch(/npm ci --omit=dev/);
    const user = /^USER (\d+):(\d+)$/m.exec(docker);
    expect(user).not.toBeNull();
    for (const j of [shards, merge]) {
      const sc = j.spec.template.spec.securityContext;
      expect(sc.runAsNonRoot).toBe(true);
      expect(sc.runAsUser).toBe(Number(user![1]));
      expect(container(j).image).toMatch(/:\d+\.\d+\.\d+$/);
    }
  });

  it.skipIf(Job === undefined)("validates against the Kubernetes batch/v1 Job schema", () => {
    for (const j of [shards, merge]) expect(() => new Job!(j).validate()).not.toThrow();
    const broken = structuredClone(shards) as unknown as { spec: { completions: unknown } };
    broken.spec.completions = "eight";
    expect(() => new Job!(broken).validate()).toThrow(/completions/);
  });
});
