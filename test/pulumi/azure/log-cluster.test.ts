import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { FILEBEAT_IMAGE } from "../../../lib/kubernetes/log-pipeline.js";
import { azureSubnetLayout, reservedPrivateIp } from "../../../lib/plan/azure.js";
import { vmCloudInit } from "../../../lib/plan/azure-vm.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

type Obj = { kind: string; metadata: { name: string; namespace?: string; annotations?: Record<string, string> }; spec?: Record<string, unknown> };
type CloudConfig = { write_files: { path: string; content: string }[]; runcmd: string[][] };

/** The Azure example on scale sets with its ELK pipeline kept; Istio (clusters only) turned off. */
function shopOnVms(): LandingZoneInput {
  const example = parse(readFileSync("examples/azure/landing-zone.yaml", "utf8")) as LandingZoneInput;
  return { ...example, tier: "iaas", mesh: { kind: "none" } };
}
const roleOf = (r: RegisteredResource) => String(r.inputs["roleDefinitionId"]).split("/").pop();
const cloudConfig = (scaleSet: RegisteredResource): CloudConfig => {
  const profile = scaleSet.inputs["virtualMachineProfile"] as { osProfile: { customData: string } };
  return parse(Buffer.from(profile.osProfile.customData, "base64").toString("utf8").replace(/^#cloud-config\n/, "")) as CloudConfig;
};
const file = (config: CloudConfig, path: string) => config.write_files.find((f) => f.path === path)?.content;

describe("Azure IaaS with ELK: a logging cluster of its own and Filebeat on every scale set", async () => {
  const spec = shopOnVms();
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const layout = azureSubnetLayout(plan.network);
  const bufferIp = reservedPrivateIp(layout.workloads, 0);
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const secret = single(resources, "azure-native:keyvault:Secret", "shop-logging-buffer-auth");
  const secretUri = (secret.outputs["properties"] as { secretUri: string }).secretUri;

  it("runs the caas log pipeline on a private AKS cluster of its own, in the workloads subnet", () => {
    expect(plan.logging!.cluster).toMatchObject({ name: "shop-logs-prod", privateEndpoint: true });
    expect(single(resources, "msa:azure:LogCluster").parent).toBe("shop");
    expect(childrenOf(resources, "shop-logging").map((r) => r.type)).toEqual(expect.arrayContaining(["msa:azure:KubernetesPlatform", "msa:kubernetes:LogPipeline"]));
    const cluster = single(resources, "azure-native:containerservice:ManagedCluster");
    expect(cluster.inputs).toMatchObject({ apiServerAccessProfile: { enablePrivateCluster: true } });
    expect(JSON.stringify(cluster.inputs["agentPoolProfiles"])).toContain(String(single(resources, "azure-native:network:Subnet", "shop-network-workloads").outputs["id"]));
    expect(byType(resources, "kubernetes:helm.sh/v3:Release").map((r) => r.inputs["chart"])).toEqual(["eck-operator"]);
    for (const r of resources.filter((r) => r.custom && r.type.startsWith("kubernetes:"))) expect(r.provider, r.name).toBe("shop-logging-platform-k8s");
  });

  it("lets the logging cluster's overlay pods reach each other and its nodes reach them through the workloads subnet's rules", () => {
    const rules = single(resources, "azure-native:network:NetworkSecurityGroup", "shop-network-workloads-nsg").inputs["securityRules"] as { name: string; sourceAddressPrefix: string; destinationAddressPrefix: string }[];
    const pods = plan.network.podsCidr;
    expect(rules.filter((r) => r.sourceAddressPrefix === pods || r.destinationAddressPrefix === pods).map((r) => `${r.name}: ${r.sourceAddressPrefix} -> ${r.destinationAddressPrefix}`)).toEqual([
      `AllowPods: ${pods} -> ${layout.workloads}`,
      `AllowPodsToPods: ${pods} -> ${pods}`,
      `AllowNodesToPods: ${layout.workloads} -> ${pods}`,
    ]);
  });

  it("reaches the buffer's primary only from the workloads subnet, through an internal load balancer at a fixed free address", () => {
    const exposure = single(resources, "kubernetes:yaml/v2:ConfigGroup", "shop-logging-buffer-exposure");
    const [service, policy] = exposure.inputs["objs"] as Obj[];
    expect(service).toMatchObject({
      kind: "Service",
      metadata: {
        name: "log-buffer-internal",
        annotations: { "service.beta.kubernetes.io/azure-load-balancer-internal": "true", "service.beta.kubernetes.io/azure-load-balancer-internal-subnet": "workloads", "service.beta.kubernetes.io/azure-load-balancer-ipv4": bufferIp },
      },
      spec: { type: "LoadBalancer", loadBalancerSourceRanges: [layout.workloads] },
    });
    expect(policy).toMatchObject({ kind: "NetworkPolicy", spec: { ingress: [{ from: [{ ipBlock: { cidr: layout.workloads } }] }] } });
    // The first reserved address, whatever the services: discovery's frontends take dynamic addresses.
    expect(bufferIp).toBe("10.0.127.250");
    const frontends = single(resources, "azure-native:network:LoadBalancer", "shop-discovery-load-balancer").inputs["frontendIPConfigurations"] as { privateIPAllocationMethod: string }[];
    expect(frontends.map((f) => f.privateIPAllocationMethod)).toEqual(plan.services.map(() => "Dynamic"));
  });

  it("keeps the generated password in Key Vault as a Pulumi secret; each service's identity may read that one secret", () => {
    expect(secret.secretInputs).toContain("properties");
    expect((secret.inputs["properties"] as { value: string }).value).toBe(single(resources, "random:index/randomPassword:RandomPassword", "shop-logging-pipeline-buffer-password").outputs["result"]);
    for (const service of plan.services) {
      const grant = byType(resources, "azure-native:authorization:RoleAssignment").find((r) => r.name === `${service.name}-read-log-buffer-auth`)!;
      expect(grant.parent).toBe(`shop-${service.name}`);
      expect(roleOf(grant)).toBe(AZURE_ROLES.keyVaultSecretsUser);
      expect(grant.inputs["scope"]).toBe(secret.outputs["id"]);
      expect(grant.inputs["principalId"]).toBe(single(resources, "azure-native:managedidentity:UserAssignedIdentity", `shop-${service.name}-identity`).outputs["principalId"]);
    }
  });

  it("runs Filebeat beside each service, shipping into the buffer with the password read from Key Vault, out of the service's reach", () => {
    const password = String((secret.inputs["properties"] as { value: string }).value);
    for (const scaleSet of byType(resources, "azure-native:compute:VirtualMachineScaleSet")) {
      const service = scaleSet.parent!.replace(/^shop-/, "");
      const config = cloudConfig(scaleSet);
      const filebeat = parse(file(config, "/etc/msa/msa-filebeat/filebeat.yml")!) as Record<string, Record<string, unknown>>;
      expect(filebeat["output.redis"]).toEqual({ hosts: ["${LOG_BUFFER_HOST}:${LOG_BUFFER_PORT}"], key: plan.logging!.bufferKey, data_type: "list", password: "${REDIS_PASSWORD}", "ssl.enabled": false });
      expect(file(config, "/etc/msa/msa-filebeat/config.env")).toBe(`MSA_SERVICE=${service}\nLOG_BUFFER_HOST=${bufferIp}\nLOG_BUFFER_PORT=6379\n`);
      expect(file(config, "/etc/msa/msa-filebeat/fetch-secrets")).toContain(`"${secretUri}?api-version=7.4"`);
      expect(file(config, "/usr/local/bin/msa-fetch-config")).not.toContain(secretUri);
      const unit = file(config, "/etc/systemd/system/msa-filebeat.service")!;
      expect(unit).toContain(FILEBEAT_IMAGE);
      expect(unit).toContain("--env-file /run/msa/msa-filebeat.env");
      expect(unit).toContain("--read-only --tmpfs /tmp --user 0:0 --cap-drop ALL --security-opt no-new-privileges");
      expect(config.runcmd).toContainEqual(["systemctl", "enable", "--now", "msa-filebeat.service"]);
      expect(JSON.stringify(scaleSet.inputs)).not.toContain(password);
    }
  });

  it("stops Filebeat's start when the buffer password cannot be read, instead of writing an empty one", () => {
    const config = cloudConfig(byType(resources, "azure-native:compute:VirtualMachineScaleSet")[0]!);
    const dir = mkdtempSync(join(tmpdir(), "msa-azure-reads-"));
    const script = file(config, "/etc/msa/msa-filebeat/fetch-secrets")!.replaceAll("/run/msa", dir);
    /** Runs the script as the VM does (sh), with a `curl` that prints `output` or fails and the real jq. */
    const run = (curl: string) => {
      writeFileSync(join(dir, "curl"), `#!/bin/sh\n${curl}\n`, { mode: 0o755 });
      const result = spawnSync("sh", ["-c", script], { env: { ...process.env, PATH: `${dir}:${process.env["PATH"]}` }, encoding: "utf8" });
      let written = "";
      try {
        written = readFileSync(join(dir, "msa-filebeat.env"), "utf8");
      } catch {
        written = "";
      }
      return { status: result.status, written };
    };
    const failed = run("exit 22");
    expect(failed.status).not.toBe(0);
    expect(failed.written).toBe("");
    expect(run(`echo '{"access_token":"t","value":null}'`).status).not.toBe(0);
    expect(run(`echo '{"access_token":"t","value":"s3cret"}'`)).toEqual({ status: 0, written: "REDIS_PASSWORD=s3cret\n" });
  });

  it("refuses a password that is no Key Vault secret URI", () => {
    const service = plan.services[0]!;
    expect(() =>
      vmCloudInit(plan, service, { image: "r.azurecr.io/x:1", registry: "r.azurecr.io", clientId: "c", logBuffer: { host: bufferIp, port: 6379, passwordSecretUri: "plain-text", tls: false } }),
    ).toThrow(/logBuffer.passwordSecretUri: "plain-text" is not a Key Vault secret URI/);
  });
});
