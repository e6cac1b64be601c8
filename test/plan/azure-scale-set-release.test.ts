import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { azureUniqueName } from "../../lib/plan/azure.js";
import { azurePipeline, type AzurePipeline } from "../../lib/plan/azure-delivery.js";
import { scaleSetReleaseScript, scaleSetReleaseTimeoutMinutes, SCALE_SET_RELEASE_ACTIONS } from "../../lib/plan/azure-release.js";
import { vmCloudInit, vmImageFile } from "../../lib/plan/azure-vm.js";
import { planLandingZone } from "../../lib/plan/planner.js";
import { githubWorkflowFiles, type Workflow } from "../../lib/plan/workflows.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { azureDevOpsShop } from "../fixtures/azure-devops.js";

const SUBSCRIPTION = "11111111-2222-4333-8444-555555555555";
const STORE = `/subscriptions/${SUBSCRIPTION}/resourceGroups/shop-prod/providers/Microsoft.AppConfiguration/configurationStores/${azureUniqueName("azureResource", "shop", "prod", "config", `${SUBSCRIPTION}/shop-prod`)}`;
const REGISTRY = "shopprod.azurecr.io";
const NEW_IMAGE = `${REGISTRY}/shop-orders@sha256:new`;
const OLD_IMAGE = `${REGISTRY}/shop-orders@sha256:old`;
const deployJob = (pipeline: AzurePipeline) => pipeline.stages.find((s) => s.stage === "deploy")!.jobs[0]!;

/**
 * Runs a release script against a fake `az` that logs each call and answers from `behaviour`:
 * the record's value, the instance ids of each `list-instances` call, the instances whose reimage fails.
 */
function runRelease(script: string, behaviour: { record: string; listings: string[][]; failReimage?: string[] }) {
  const dir = mkdtempSync(join(tmpdir(), "vmss-release-"));
  const log = join(dir, "calls.log");
  writeFileSync(join(dir, "listings"), behaviour.listings.map((l) => l.join(" ")).join("\n") + "\n");
  writeFileSync(
    join(dir, "az"),
    [
      "#!/bin/bash",
      `echo "$*" >> ${log}`,
      'case "$1 $2" in',
      `  "rest --method") if [ "$3" = get ]; then echo "${behaviour.record}"; fi ;;`,
      // Each listing answers one call; the last repeats.
      `  "vmss list-instances") n=$(grep -c list-instances ${log}); line=$(sed -n "\${n}p" ${dir}/listings); [ -n "$line" ] || line=$(tail -n 1 ${dir}/listings); printf '%s\\n' $line ;;`,
      `  "vmss reimage") id="\${@: -3:1}"; case " ${(behaviour.failReimage ?? []).join(" ")} " in *" $id "*) exit 1 ;; esac ;;`,
      '  "vmss get-instance-view") echo "HealthState/healthy" ;;',
      "esac",
    ].join("\n"),
  );
  writeFileSync(join(dir, "sleep"), "#!/bin/sh\n");
  chmodSync(join(dir, "az"), 0o755);
  chmodSync(join(dir, "sleep"), 0o755);
  const result = spawnSync("bash", ["-c", script], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: "utf8" });
  let calls: string[] = [];
  try {
    calls = readFileSync(log, "utf8").trim().split("\n");
  } catch {
    calls = [];
  }
  return { status: result.status, stdout: result.stdout, calls };
}

/** A call, shortened to what it does: `get`, `put <image>`, `list`, `reimage <id>`, `health <id>`. */
function summarize(call: string): string {
  if (call.startsWith("rest --method get")) return "get";
  if (call.startsWith("rest --method put")) return `put ${/value\\":\\"([^\\]+)\\"/.exec(call)?.[1] ?? /"value\\?":\\?"([^"\\]+)/.exec(call)?.[1]}`;
  if (call.startsWith("vmss list-instances")) return "list";
  if (call.startsWith("vmss reimage")) return `reimage ${/--instance-ids (\S+)/.exec(call)![1]}`;
  if (call.startsWith("vmss get-instance-view")) return `health ${/--instance-id (\S+)/.exec(call)![1]}`;
  return call;
}

describe("Azure DevOps delivery on VM scale sets", () => {
  const plan = planLandingZone(azureDevOpsShop("iaas"), { engine: "pulumi" });
  const azure = plan.azureDelivery!;

  it("accepts pipelines on azure/iaas and targets each service's own named scale set", () => {
    expect(plan.decisions.find((d) => d.capability === "pipeline")).toBeDefined();
    expect(azure.services.map((s) => [s.service, s.target])).toEqual(plan.services.map((s) => [s.name, { kind: "scale-set", scaleSet: `shop-prod-${s.name}-vmss` }]));
    expect(azure.services.every((s) => s.approval && s.environment === "shop-prod")).toBe(true);
  });

  it("builds, tests, pushes, then deploys in the approved environment with one step that records and reimages only its own scale set", () => {
    for (const service of azure.services) {
      const pipeline = azurePipeline(plan, service, { subscriptionId: SUBSCRIPTION });
      expect(pipeline.stages.map((s) => [s.stage, s.dependsOn])).toEqual([["build", undefined], ["test", "build"], ["push", "test"], ["deploy", "push"]]);
      const job = deployJob(pipeline);
      expect(job).toMatchObject({ deployment: "deploy", environment: "shop-prod", variables: { image: "$[ stageDependencies.push.push.outputs['push.image'] ]" } });
      const steps = job.strategy!.runOnce.deploy.steps;
      expect(steps.map((s) => s.displayName)).toEqual([`Release ${service.service} to shop-prod-${service.service}-vmss`]);
      expect(steps[0]!.inputs).toMatchObject({ azureSubscription: `shop-prod-${service.service}`, scriptType: "bash" });
      const script = steps[0]!.inputs!["inlineScript"]!;
      expect(script).toBe(scaleSetReleaseScript({ resourceGroup: "shop-prod", scaleSet: `shop-prod-${service.service}-vmss`, storeId: STORE, service: service.service }, "$(image)"));
      // Every scale-set command names this service's scale set and no other.
      const vmssCommands = script.split("\n").filter((l) => l.includes("az vmss"));
      expect(vmssCommands.length).toBeGreaterThan(0);
      for (const line of vmssCommands) expect(line).toContain(`--resource-group shop-prod --name shop-prod-${service.service}-vmss `);
      expect(script).toContain(`/keyValues/${service.service}-released-image?`);
      for (const other of azure.services.filter((s) => s.service !== service.service)) expect(script).not.toContain(`${other.service}-released-image`);
    }
  });

  it("gives the deploy job time for one reimage and health wait per instance the autoscaler may reach, within the hosted agents' limit", () => {
    const orders = azure.services.find((s) => s.service === "orders")!;
    const max = plan.services.find((s) => s.name === "orders")!.replicas.max;
    expect(deployJob(azurePipeline(plan, orders, { subscriptionId: SUBSCRIPTION })).timeoutInMinutes).toBe(scaleSetReleaseTimeoutMinutes(max));
    expect(scaleSetReleaseTimeoutMinutes(2)).toBe(15 + 2 * 15);
    expect(scaleSetReleaseTimeoutMinutes(100)).toBe(360);
  });

  it("lets the deploy identity list, reimage and read the health of instances, and nothing that changes the scale set's model", () => {
    expect([...SCALE_SET_RELEASE_ACTIONS]).toEqual([
      "Microsoft.Compute/virtualMachineScaleSets/read",
      "Microsoft.Compute/virtualMachineScaleSets/reimage/action",
      "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/read",
      "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/reimage/action",
      "Microsoft.Compute/virtualMachineScaleSets/virtualMachines/instanceView/read",
    ]);
  });

  it("writes the GitHub Actions deploy job the same way: the release script on the service's own scale set, after OIDC sign-in", () => {
    const input = { ...azureDevOpsShop("iaas"), pipelines: { provider: "github-actions", repositoryOwner: "acme" }, frontends: undefined } as LandingZoneInput;
    const ghPlan = planLandingZone(input);
    const file = githubWorkflowFiles(ghPlan, "landing-zone.yaml", {}, () => []).find((f) => f.path === ".github/workflows/orders.yml")!;
    const workflow = parse(file.content) as Workflow;
    expect(workflow.jobs.deploy).toMatchObject({ needs: "build", environment: "prod", permissions: { "id-token": "write" } });
    const steps = workflow.jobs.deploy.steps;
    expect(steps.map((s) => s.name)).toEqual(["Azure credentials (OIDC)", "Release to the scale set"]);
    const store = "/subscriptions/${{ vars.AZURE_SUBSCRIPTION_ID }}/resourceGroups/${{ vars.AZURE_RESOURCE_GROUP }}/providers/Microsoft.AppConfiguration/configurationStores/${{ vars.AZURE_APP_CONFIGURATION }}";
    expect(steps[1]!.run).toBe(scaleSetReleaseScript({ resourceGroup: "${{ vars.AZURE_RESOURCE_GROUP }}", scaleSet: "shop-prod-orders-vmss", storeId: store, service: "orders" }, "$IMAGE"));
    expect(file.content).not.toContain("kubectl");
  });
});

describe("the scale-set release script, run against a fake az", () => {
  const script = scaleSetReleaseScript({ resourceGroup: "shop-prod", scaleSet: "shop-prod-orders-vmss", storeId: STORE, service: "orders" }, NEW_IMAGE);

  it("records the new image first, then reimages the instances one at a time, each healthy before the next", () => {
    const run = runRelease(script, { record: OLD_IMAGE, listings: [["0", "1", "2"]] });
    expect(run.status).toBe(0);
    expect(run.calls.map(summarize)).toEqual(["get", "list", `put ${NEW_IMAGE}`, "reimage 0", "health 0", "reimage 1", "health 1", "reimage 2", "health 2"]);
  });

  it("on a failed instance restores the previous record and reimages every instance that booted the new one, scale-outs included, then fails", () => {
    // Instance 3 was added by the autoscaler during the release, so it booted the new record.
    const run = runRelease(script, { record: OLD_IMAGE, listings: [["0", "1", "2"], ["0", "1", "2", "3"]], failReimage: ["1"] });
    expect(run.status).toBe(1);
    expect(run.calls.map(summarize)).toEqual(["get", "list", `put ${NEW_IMAGE}`, "reimage 0", "health 0", "reimage 1", `put ${OLD_IMAGE}`, "list", "reimage 0", "reimage 1", "reimage 3"]);
    expect(run.stdout).toContain(`Release of orders failed (instance 1 did not reimage): restoring ${OLD_IMAGE}`);
  });

  it("changes nothing when the record holds no previous image to roll back to", () => {
    const run = runRelease(script, { record: "", listings: [["0"]] });
    expect(run.status).toBe(1);
    expect(run.calls.map(summarize)).toEqual(["get"]);
    expect(run.stdout).toContain("The orders-released-image record is empty: run pulumi up to seed it");
  });
});

describe("VM boot from the release record", () => {
  const plan = planLandingZone(azureDevOpsShop("iaas"), { engine: "pulumi" });
  const orders = plan.services.find((s) => s.name === "orders")!;
  const record = { endpoint: "https://shop-prod-config.azconfig.io", key: "orders-released-image" };
  const init = parse(vmCloudInit(plan, orders, { image: { record }, registry: REGISTRY, clientId: "client-1" }).replace(/^#cloud-config\n/, "")) as { write_files: { path: string; content: string }[] };
  const file = (path: string) => init.write_files.find((f) => f.path === path)!.content;

  it("reads its own record with the instance identity once per boot and runs the image it names", () => {
    const fetch = file("/usr/local/bin/msa-fetch-image");
    expect(fetch).toContain("resource=https://azconfig.io&client_id=client-1");
    expect(fetch).toContain(`"${record.endpoint}/kv/${record.key}?api-version=1.0"`);
    const unit = file("/etc/systemd/system/msa-orders.service");
    expect(unit).toContain(`ExecStartPre=/bin/sh -c '[ -s ${vmImageFile("orders")} ] || /usr/local/bin/msa-fetch-image'`);
    expect(unit).toContain(`ExecStartPre=/bin/sh -c 'exec /usr/bin/docker pull "$$(cat ${vmImageFile("orders")})"'`);
    expect(unit).toMatch(new RegExp(`ExecStart=/bin/sh -c 'exec /usr/bin/docker run .* "\\$\\$\\(cat ${vmImageFile("orders").replace(/\./g, "\\.")}\\)"'`));
    expect(unit).toContain("Restart=always");
    expect(init.write_files.map((f) => f.path).join(" ")).not.toContain(orders.image);
  });

  /** Runs the fetch script with fake curl answers, writing under a temporary directory instead of /run/msa. */
  function fetchWith(kvBody: string | undefined) {
    const dir = mkdtempSync(join(tmpdir(), "vm-fetch-"));
    writeFileSync(join(dir, "curl"), ['#!/bin/sh', 'case "$*" in', '  *169.254.169.254*) echo \'{"access_token":"t"}\' ;;', kvBody === undefined ? "  *) exit 22 ;;" : `  *) echo '${kvBody}' ;;`, "esac"].join("\n"));
    chmodSync(join(dir, "curl"), 0o755);
    const fetch = file("/usr/local/bin/msa-fetch-image").replaceAll("/run/msa", dir);
    const result = spawnSync("sh", ["-c", fetch], { env: { PATH: `${dir}:/usr/bin:/bin` }, encoding: "utf8" });
    let image: string | undefined;
    try {
      image = readFileSync(join(dir, "orders.image"), "utf8");
    } catch {
      image = undefined;
    }
    return { status: result.status, image };
  }

  it("keeps the recorded image for the boot, and fails (the unit retries, nothing starts) when the record is unreadable, empty or names another registry", () => {
    expect(fetchWith(JSON.stringify({ key: record.key, value: NEW_IMAGE }))).toEqual({ status: 0, image: `${NEW_IMAGE}\n` });
    for (const body of [undefined, JSON.stringify({ key: record.key, value: null }), JSON.stringify({ key: record.key, value: "evil.example.com/miner:1" })]) {
      const run = fetchWith(body);
      expect(run.status).not.toBe(0);
      expect(run.image).toBeUndefined();
    }
  });

  it("refuses a record endpoint or key that is not one, naming the option and the fix", () => {
    expect(() => vmCloudInit(plan, orders, { image: { record: { ...record, endpoint: "http://x" } }, registry: REGISTRY, clientId: "c" })).toThrow(/options.image.record.endpoint: "http:\/\/x" is not an App Configuration endpoint. Fix: pass https:\/\/<store>.azconfig.io/);
    expect(() => vmCloudInit(plan, orders, { image: { record: { ...record, key: "a b" } }, registry: REGISTRY, clientId: "c" })).toThrow(/options.image.record.key: "a b" is not a release record key/);
  });
});
