import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { appEngineAppYaml, appEngineSettingsDigest, appEngineVersionId, appEngineVersionSettings, type AppEngineVersionSettings } from "../../lib/plan/app-engine-version.js";
import {
  APP_ENGINE_SUBSTITUTIONS,
  appEngineReleaseSteps,
  DIGEST_FILE,
  INSTANCE_GROUP_SUBSTITUTIONS,
  instanceGroupReleaseSteps,
  instanceGroupRollout,
  instanceGroupRollerRoleId,
  type CloudBuildStepPlan,
} from "../../lib/plan/cloud-build.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import { loadSpecFile } from "../../lib/spec/parse.js";

const REPOSITORY = "asia-northeast3-docker.pkg.dev/shop-prod/orders/orders";
const PUSHED = `${REPOSITORY}@sha256:${"1".repeat(64)}`;
const PREVIOUS = `${REPOSITORY}@sha256:${"2".repeat(64)}`;

const settings: AppEngineVersionSettings = appEngineVersionSettings(planLandingZone({ ...loadSpecFile("examples/gcp/landing-zone.yaml"), tier: "paas", mesh: { ...loadSpecFile("examples/gcp/landing-zone.yaml").mesh, kind: "none" } }), "orders", {
  serviceAccount: "shop-orders@shop-prod.iam.gserviceaccount.com",
  envVariables: { SERVICE_NAME: "orders", PORT: "8080", PRICE: "$5 'net'" },
  network: { name: "shop-prod", subnetwork: "shop-prod-services" },
});

/**
 * Runs a deploy step's script with bash as Cloud Build would (substitutions filled in, `$$` handed to
 * bash as `$`), against a fake gcloud that records its calls and fails where `failures` says.
 */
function runDeploy(step: CloudBuildStepPlan, substitutions: Record<string, string>, failures: Record<string, number> = {}): { status: number; calls: string[]; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), "cloud-build-"));
  writeFileSync(join(dir, "digest"), PUSHED);
  // A failure named `<pattern>` makes the first N calls whose arguments contain it fail.
  const cases = Object.entries(failures)
    .map(([pattern, times]) => `if [[ "$*" == *"${pattern}"* ]]; then n=$(cat "$DIR/count-${pattern.replace(/\W/g, "_")}" 2>/dev/null || echo 0); echo $((n+1)) > "$DIR/count-${pattern.replace(/\W/g, "_")}"; if (( n < ${times} )); then exit 1; fi; fi`)
    .join("\n");
  writeFileSync(
    join(dir, "gcloud"),
    [
      "#!/bin/bash",
      `DIR=${dir}`,
      'if [[ "$*" == "secrets versions add"* ]]; then echo "gcloud $* <<< $(cat)" >> "$DIR/calls"; else echo "gcloud $*" >> "$DIR/calls"; fi',
      cases,
      `if [[ "$*" == "secrets versions access"* ]]; then printf '%s' '${PREVIOUS}'; fi`,
      'if [[ "$*" == "app versions list"* ]]; then echo v-previous; fi',
      'if [[ "$*" == "app versions describe"* ]]; then echo SERVING; fi',
      "exit 0",
      "",
    ].join("\n"),
  );
  chmodSync(join(dir, "gcloud"), 0o755);
  let script = step.args[1].split(DIGEST_FILE).join(join(dir, "digest"));
  script = script.replace(/(?<!\$)\$\{(_[A-Z_]+)\}/g, (_, name: string) => substitutions[name] ?? `<missing ${name}>`).replace(/\$\$/g, "$");
  let status = 0;
  try {
    execFileSync("bash", ["-c", script], { cwd: dir, env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` }, stdio: "pipe" });
  } catch (error) {
    status = (error as { status: number }).status;
  }
  let calls: string[] = [];
  try {
    calls = readFileSync(join(dir, "calls"), "utf8").trim().split("\n");
  } catch {
    calls = [];
  }
  return { status, calls, dir };
}

/** Every single `$` of a script names one of the trigger's substitutions or COMMIT_SHA (Cloud Build would fail on anything else). */
function expectOnlySubstitutions(steps: readonly CloudBuildStepPlan[], names: Readonly<Record<string, string>>): void {
  const allowed = new Set<string>([...Object.values(names), "COMMIT_SHA"]);
  const all = steps.map((s) => s.args[1]).join("\n");
  for (const match of all.matchAll(/(?<!\$)\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) expect(allowed).toContain(match[1]);
  // MUST_MATCH: every substitution the trigger sets is used.
  for (const name of Object.values(names)) expect(all).toContain(`\${${name}}`);
}

describe("Cloud Build release of a VM service (managed instance group)", () => {
  const steps = instanceGroupReleaseSteps({ testCommand: "npm test", zoneCount: 3 });
  const subs = { _IMAGE: REPOSITORY, _RELEASE_SECRET: "shop-prod-orders-release", _GROUP: "shop-orders-group-a1b2", _REGION: "asia-northeast3" };

  it("tests, builds, pushes, then deploys, each step after the one before", () => {
    expect(steps.map((s) => [s.id, s.waitFors])).toEqual([["test", []], ["build", ["test"]], ["push", ["build"]], ["deploy", ["push"]]]);
    expectOnlySubstitutions(steps, INSTANCE_GROUP_SUBSTITUTIONS);
  });

  it("records the digest, replaces only its group's VMs one surge per zone and none unavailable, and waits until stable", () => {
    const run = runDeploy(steps[3]!, subs);
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      "gcloud secrets versions access latest --secret shop-prod-orders-release",
      `gcloud secrets versions add shop-prod-orders-release --data-file=- <<< ${PUSHED}`,
      "gcloud compute instance-groups managed rolling-action replace shop-orders-group-a1b2 --region asia-northeast3 --max-surge 3 --max-unavailable 0",
      "gcloud compute instance-groups managed wait-until shop-orders-group-a1b2 --region asia-northeast3 --stable --timeout 600",
    ]);
    // The group comes from the trigger's substitution, never from the pushed code.
    expect(steps[3]!.args[1]).toContain('rolling-action replace "${_GROUP}" --region "${_REGION}"');
  });

  it("rolls back when the group does not become stable: the previous image goes back, the VMs are replaced again, and the build fails", () => {
    const run = runDeploy(steps[3]!, subs, { "wait-until": 1 });
    expect(run.status).toBe(1);
    expect(run.calls.slice(1)).toEqual([
      `gcloud secrets versions add shop-prod-orders-release --data-file=- <<< ${PUSHED}`,
      "gcloud compute instance-groups managed rolling-action replace shop-orders-group-a1b2 --region asia-northeast3 --max-surge 3 --max-unavailable 0",
      "gcloud compute instance-groups managed wait-until shop-orders-group-a1b2 --region asia-northeast3 --stable --timeout 600",
      `gcloud secrets versions add shop-prod-orders-release --data-file=- <<< ${PREVIOUS}`,
      "gcloud compute instance-groups managed rolling-action replace shop-orders-group-a1b2 --region asia-northeast3 --max-surge 3 --max-unavailable 0",
      "gcloud compute instance-groups managed wait-until shop-orders-group-a1b2 --region asia-northeast3 --stable --timeout 600",
    ]);
  });

  it("refuses an image that is not a digest of the service's own repository before touching anything", () => {
    const run = runDeploy(steps[3]!, { ...subs, _IMAGE: "asia-northeast3-docker.pkg.dev/shop-prod/payments/payments" });
    expect(run.status).toBe(1);
    expect(run.calls).toEqual([]);
  });

  it("surges one VM per zone and never takes one out first, for the group's own updates too", () => {
    expect(instanceGroupRollout(2)).toEqual({ maxSurge: 2, maxUnavailable: 0 });
    expect(instanceGroupRollerRoleId("shop-a", "prod")).toBe("shop_a_prod_mig_roller");
  });
});

describe("Cloud Build release of an App Engine service", () => {
  const steps = appEngineReleaseSteps({ testCommand: "npm test", appYaml: appEngineAppYaml(settings), settingsDigest: appEngineSettingsDigest(settings) });
  const subs = { _IMAGE: REPOSITORY, _RELEASE_SECRET: "shop-prod-orders-release", _SERVICE: "orders" };
  const version = appEngineVersionId(PUSHED, settings);

  it("tests, builds, pushes, then deploys, and uses only its substitutions", () => {
    expect(steps.map((s) => [s.id, s.waitFors])).toEqual([["test", []], ["build", ["test"]], ["push", ["build"]], ["deploy", ["push"]]]);
    expectOnlySubstitutions(steps, APP_ENGINE_SUBSTITUTIONS);
  });

  it("deploys a version of only its service with the pushed image and the settings Pulumi uses, under the id Pulumi computes, then promotes and records it", () => {
    const run = runDeploy(steps[3]!, subs);
    expect(run.status).toBe(0);
    expect(run.calls).toEqual([
      "gcloud app versions list --service orders --filter traffic_split>0.5 --format value(id) --limit 1",
      `gcloud app deploy app.yaml --image-url ${PUSHED} --version ${version} --no-promote --quiet`,
      `gcloud app versions describe ${version} --service orders --format value(servingStatus)`,
      `gcloud app services set-traffic orders --splits ${version}=1 --quiet`,
      `gcloud secrets versions add shop-prod-orders-release --data-file=- <<< ${PUSHED}`,
    ]);
    expect(readFileSync(join(run.dir, "app.yaml"), "utf8")).toBe(appEngineAppYaml(settings));
  });

  it("sends all traffic back to the version that had it when the promotion fails, and fails the build without recording the release", () => {
    const run = runDeploy(steps[3]!, subs, { "set-traffic orders --splits v-": 1 });
    expect(run.status).toBe(1);
    expect(run.calls.slice(-2)).toEqual([`gcloud app services set-traffic orders --splits ${version}=1 --quiet`, "gcloud app services set-traffic orders --splits v-previous=1 --quiet"]);
    expect(run.calls.some((c) => c.startsWith("gcloud secrets versions add"))).toBe(false);
  });

  it("fails without moving traffic when the deploy itself fails", () => {
    const run = runDeploy(steps[3]!, subs, { "app deploy": 1 });
    expect(run.status).toBe(1);
    expect(run.calls.some((c) => c.includes("set-traffic"))).toBe(false);
  });

  it("refuses a settings digest that is not one", () => {
    expect(() => appEngineReleaseSteps({ testCommand: "t", appYaml: "", settingsDigest: "abc" })).toThrow(/settingsDigest: "abc" is not a SHA-256\. Fix: pass appEngineSettingsDigest/);
  });
});
