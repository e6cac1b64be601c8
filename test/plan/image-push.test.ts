import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { azurePipeline } from "../../lib/plan/azure-delivery.js";
import { buildStageSpec, IMAGE_ARTIFACT } from "../../lib/plan/buildspec.js";
import { DIGEST_FILE, gkeRolloutSteps } from "../../lib/plan/cloud-build.js";
import { pushOnce } from "../../lib/plan/image-push.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import { serviceWorkflow } from "../../lib/plan/workflows.js";
import { azureDevOpsShop } from "../fixtures/azure-devops.js";

const REPOSITORY = "registry.example.com/shop-orders";
const FIRST = `${REPOSITORY}@sha256:${"a".repeat(64)}`;
const REBUILT = `${REPOSITORY}@sha256:${"b".repeat(64)}`;

const dir = mkdtempSync(join(tmpdir(), "mlz-push-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
// A registry of one tag: `manifest inspect` finds it when EXISTS is set, and then a push of it fails; `inspect` names the digest of
// what the local tag last came from (the registry's first image after a pull, the rebuild after a push).
writeFileSync(
  join(dir, "docker"),
  [
    "#!/usr/bin/env bash",
    'echo "docker $*" >> "$CALLS"',
    'case "$1" in',
    '  manifest) [[ -n "${EXISTS:-}" ]] ;;',
    // The registry's tags are immutable: pushing one it holds fails, as ECR, Artifact Registry and ACR do.
    '  push) if [[ -n "${EXISTS:-}" ]]; then echo "tag already exists and cannot be overwritten" >&2; exit 1; fi',
    '        if [[ -n "${PUSH_FAILS:-}" ]]; then echo "denied" >&2; exit 1; fi; echo rebuilt > "$STATE" ;;',
    '  pull) echo first > "$STATE" ;;',
    `  inspect) if [[ "$(cat "$STATE" 2>/dev/null)" == first ]]; then echo "${FIRST}"; else echo "${REBUILT}"; fi ;;`,
    "esac",
  ].join("\n"),
);
chmodSync(join(dir, "docker"), 0o755);

let runs = 0;
/**
 * Runs `script` in bash with the stub docker, against a registry that holds the tag or not, with the
 * options its runner sets: `-e -o pipefail` for GitHub Actions and CodeBuild (which stops at a failing
 * command), none for Azure Pipelines and Cloud Build.
 */
function run(script: string, registry: { exists: boolean; pushFails?: boolean }, env: Record<string, string> = {}, options = "set -eo pipefail") {
  const work = mkdtempSync(join(dir, `run-${runs++}-`));
  const calls = join(work, "calls");
  writeFileSync(calls, "");
  const result = spawnSync("bash", ["-c", `${options}\n${script}`], {
    cwd: work,
    encoding: "utf8",
    env: {
      PATH: `${dir}:${process.env["PATH"]}`,
      CALLS: calls,
      STATE: join(work, "state"),
      ...(registry.exists ? { EXISTS: "1" } : {}),
      ...(registry.pushFails ? { PUSH_FAILS: "1" } : {}),
      ...env,
    },
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr, calls: readFileSync(calls, "utf8").trim().split("\n"), work };
}

describe("pushOnce: an image build that can be retried against an immutable registry", () => {
  const ref = '"$IMAGE_REPOSITORY:$TAG"';
  const env = { IMAGE_REPOSITORY: REPOSITORY, TAG: "0123abc" };

  it("pushes a commit's image the registry does not hold yet", () => {
    const result = run(pushOnce(ref), { exists: false }, env);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([`docker manifest inspect ${REPOSITORY}:0123abc`, `docker push ${REPOSITORY}:0123abc`]);
  });

  it("on a retry of the same commit, pulls the image the first run pushed instead of pushing the rebuild, and says so", () => {
    const result = run(pushOnce(ref), { exists: true }, env);
    expect(result.status).toBe(0);
    expect(result.calls).toEqual([`docker manifest inspect ${REPOSITORY}:0123abc`, `docker pull --quiet ${REPOSITORY}:0123abc`]);
    expect(result.stdout).toContain("already holds the image of this commit");
  });

  it("fails when the push fails, so a registry it cannot read is never taken for an empty one", () => {
    const result = run(pushOnce(ref), { exists: false, pushFails: true }, env);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("denied");
  });
});

describe("every runner pushes once and releases the digest the registry holds", () => {
  it("CodeBuild: the build artifact names the first run's digest on a retry, the new one otherwise", () => {
    const commands = (buildStageSpec("true") as { phases: { build: { commands: string[] } } }).phases.build.commands;
    expect(commands).toContain(pushOnce('"$REPOSITORY_URI:$IMAGE_TAG"'));
    expect(commands.filter((c) => c.includes("docker push"))).toHaveLength(1);
    // From the tag to the artifact; the login and the unit tests need the real registry and code.
    const script = commands.slice(commands.findIndex((c) => c.startsWith("IMAGE_TAG="))).join("\n");
    for (const [exists, image] of [[false, REBUILT], [true, FIRST]] as const) {
      const result = run(script, { exists }, { REPOSITORY_URI: REPOSITORY, IMAGE_TAG: "0123abc" });
      expect(result.status, result.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(result.work, IMAGE_ARTIFACT), "utf8"))).toEqual({ image });
    }
  });

  it("GitHub Actions: the build job outputs the first run's digest on a re-run", () => {
    const plan = planLandingZone({ name: "shop", region: "ap-northeast-2", gateway: { auth: "none" }, pipelines: { provider: "github-actions", repositoryOwner: "acme" }, services: [{ name: "orders" }] });
    const step = serviceWorkflow(plan, plan.delivery!.services[0]!).jobs.build.steps.find((s) => s.name === "Build and push") as { run: string };
    expect(step.run).toContain(pushOnce('"$IMAGE_REPOSITORY:$GITHUB_SHA"'));
    for (const [exists, image] of [[false, REBUILT], [true, FIRST]] as const) {
      const result = run(`${step.run}\ncat "$GITHUB_OUTPUT"`, { exists }, { IMAGE_REPOSITORY: REPOSITORY, GITHUB_SHA: "0123abc", GITHUB_OUTPUT: join(dir, `output-${exists}`) });
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout.trim().split("\n").at(-1)).toBe(`image=${image}`);
    }
    expect(run(step.run, { exists: false, pushFails: true }, { IMAGE_REPOSITORY: REPOSITORY, GITHUB_SHA: "0123abc", GITHUB_OUTPUT: join(dir, "output-failed") }).status).not.toBe(0);
  });

  it("Cloud Build: the digest file names the first run's digest on a retry", () => {
    const push = gkeRolloutSteps({ testCommand: "true", privateEndpoint: false }).find((s) => s.id === "push")!;
    expect(push.args[1]).toContain(pushOnce('"${_IMAGE}:$COMMIT_SHA"'));
    // ${_IMAGE} and $COMMIT_SHA are Cloud Build substitutions; bash expands the same names from the
    // environment. The digest file lives in the build's /workspace, here the run's directory.
    const script = push.args[1].replaceAll(DIGEST_FILE, "digest");
    const env = { _IMAGE: REPOSITORY, COMMIT_SHA: "0123abc" };
    for (const [exists, image] of [[false, REBUILT], [true, FIRST]] as const) {
      const result = run(script, { exists }, env, "");
      expect(result.status, result.stderr).toBe(0);
      expect(readFileSync(join(result.work, "digest"), "utf8").trim()).toBe(image);
    }
    expect(run(script, { exists: false, pushFails: true }, env, "").status).not.toBe(0);
  });

  it("Azure Pipelines: the push job's output variable names the first run's digest on a retry", () => {
    const plan = planLandingZone(azureDevOpsShop(), { engine: "pulumi" });
    const pipeline = azurePipeline(plan, plan.azureDelivery!.services[0]!, { subscriptionId: "00000000-0000-0000-0000-0000000000aa" });
    const push = pipeline.stages.find((s) => s.stage === "push")!.jobs[0]!.steps!.find((s) => s.inputs?.["inlineScript"]?.includes("docker push"))!;
    const script = push.inputs!["inlineScript"]!;
    expect(script).toContain(pushOnce('"$(imageRepository):$(Build.SourceVersion)"'));
    // Azure Pipelines macros become shell variables; az and docker load need the real agent.
    const runnable = script
      .split("\n")
      .filter((line) => !/^(az acr login|docker load)/.test(line))
      .join("\n")
      .replaceAll("$(imageRepository)", "$IMAGE_REPOSITORY")
      .replaceAll("$(Build.SourceVersion)", "$SOURCE_VERSION");
    const env = { IMAGE_REPOSITORY: REPOSITORY, SOURCE_VERSION: "0123abc" };
    for (const [exists, image] of [[false, REBUILT], [true, FIRST]] as const) {
      const result = run(runnable, { exists }, env, "");
      expect(result.status, result.stderr).toBe(0);
      expect(result.stdout.trim().split("\n").at(-1)).toBe(`##vso[task.setvariable variable=image;isOutput=true]${image}`);
    }
    // The task's bash has no -e of its own: a failed push fails the step and sets no image.
    const failed = run(runnable, { exists: false, pushFails: true }, env, "");
    expect(failed.status).not.toBe(0);
    expect(failed.stdout).not.toContain("##vso[task.setvariable variable=image");
  });
});
