import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { LOCAL_AUTH_TAG, LOGSTASH_LOCAL_AUTH } from "../../../lib/plan/azure.js";
import { isStatefulPulumiType } from "../../../lib/plan/stateful.js";
import { azurePolicies } from "../../../lib/pulumi/policy/azure.js";
import { kubernetesPolicies } from "../../../lib/pulumi/policy/kubernetes.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { runProgram, type RegisteredResource } from "../harness.js";
import { evaluatePolicies } from "../policy/evaluate.js";

const ALL = [...azurePolicies, ...kubernetesPolicies];
const example = parse(readFileSync("examples/azure/landing-zone.yaml", "utf8")) as LandingZoneInput;
const resourcesOf = async (spec: LandingZoneInput) => (await runProgram(async () => void (await createLandingZone("shop", { spec })))).resources;
const bad = (type: string, inputs: Record<string, unknown>, extra: Partial<RegisteredResource> = {}) => ({ type, name: "bad", inputs, outputs: { ...inputs, id: "bad-id" }, protect: false, ...extra });

describe("the Azure policy pack over the Azure landing zones", () => {
  const zones: Record<string, RegisteredResource[]> = {};
  beforeAll(async () => {
    zones["caas prod"] = await resourcesOf(example);
    zones["caas dev"] = await resourcesOf({ ...example, environment: "dev", network: { zones: 2 } });
    for (const tier of ["iaas", "paas"] as const) zones[`${tier} prod`] = await resourcesOf({ ...example, tier, mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" } });
    zones["paas prod with ELK"] = await resourcesOf({ ...example, tier: "paas", mesh: { kind: "none" } });
  });

  it("finds nothing in any service model or environment", async () => {
    for (const [zone, resources] of Object.entries(zones)) {
      expect(resources.length, zone).toBeGreaterThan(60);
      expect(await evaluatePolicies(resources, ALL), zone).toEqual([]);
    }
  });

  it("retains every resource holding data in prod on delete too", () => {
    for (const zone of ["caas prod", "iaas prod", "paas prod", "paas prod with ELK"]) {
      const stateful = zones[zone]!.filter((r) => isStatefulPulumiType(r.type));
      expect(stateful.length, zone).toBeGreaterThan(10);
      expect(stateful.filter((r) => !r.protect || !r.retainOnDelete).map((r) => `${zone}: ${r.type} ${r.name}`)).toEqual([]);
    }
  });

  it("catches each class of problem on a bad resource", async () => {
    const violations = await evaluatePolicies(
      [
        bad("azure-native:redis:Redis", { enableNonSslPort: true, minimumTlsVersion: "1.0", publicNetworkAccess: "Enabled", disableAccessKeyAuthentication: false }),
        bad("azure-native:authorization:RoleAssignment", { roleDefinitionId: "/providers/Microsoft.Authorization/roleDefinitions/b24988ac-6180-42a0-ab88-20f7382dd24c", scope: "/subscriptions/s/resourceGroups/rg" }),
        bad("azure-native:compute:VirtualMachineScaleSet", {
          virtualMachineProfile: {
            osProfile: { linuxConfiguration: { disablePasswordAuthentication: false } },
            securityProfile: {},
            networkProfile: { networkInterfaceConfigurations: [{ ipConfigurations: [{ name: "ip", publicIPAddressConfiguration: { name: "pip" } }] }] },
          },
        }),
        bad("azure-native:network:NetworkSecurityGroup", { securityRules: [{ name: "ssh", direction: "Inbound", access: "Allow", sourceAddressPrefix: "*", destinationPortRange: "22" }] }),
        bad("azure-native:keyvault:Vault", { properties: { enableRbacAuthorization: false, accessPolicies: [{ objectId: "x" }], publicNetworkAccess: "Enabled" }, tags: { "msa:environment": "prod" } }),
        bad("azure-native:network:VirtualNetwork", {}),
        bad("azure-native:logic:Workflow", { definition: { triggers: { manual: { type: "Request", kind: "Http" } } }, accessControl: { triggers: { openAuthenticationPolicies: { policies: { any: { type: "AAD", claims: [{ name: "iss", value: "https://sts.windows.net/t/" }] } } } } } }),
        bad("azure-native:storage:BlobContainer", { publicAccess: "Blob" }),
        bad("azure-native:cdn:Route", { httpsRedirect: "Disabled" }),
        bad("azure-native:cdn:AFDCustomDomain", { tlsSettings: { certificateType: "ManagedCertificate", minimumTlsVersion: "TLS10" } }),
      ],
      azurePolicies,
    );
    expect([...new Set(violations.map((v) => v.policy))].sort()).toEqual(
      [
        "azure-containers-private",
        "azure-data-private",
        "azure-diagnostics",
        "azure-front-door-tls",
        "azure-keyvault-rbac",
        "azure-logic-trigger-entra",
        "azure-no-broad-roles",
        "azure-no-shared-keys",
        "azure-nsg-no-open-ingress",
        "azure-prod-stateful-protected",
        "azure-redis-tls",
        "azure-vm-no-password",
        "azure-vm-no-public-ip",
        "azure-vmss-encryption-at-host",
        "azure-vnet-flow-logs",
      ].sort(),
    );
    expect(violations.find((v) => v.policy === "azure-no-broad-roles")!.message).toMatch(/grants Contributor/);
  });

  it("accepts SAS on an Event Hubs namespace only for the Logstash log export, and only while it is closed to public networks", async () => {
    const sharedKeys = async (inputs: Record<string, unknown>) => (await evaluatePolicies([bad("azure-native:eventhub:Namespace", inputs)], azurePolicies)).filter((v) => v.policy === "azure-no-shared-keys");
    const tags = { [LOCAL_AUTH_TAG]: LOGSTASH_LOCAL_AUTH };
    expect(await sharedKeys({ disableLocalAuth: false, publicNetworkAccess: "Disabled", tags })).toEqual([]);
    expect((await sharedKeys({ disableLocalAuth: false, publicNetworkAccess: "Enabled", tags }))[0]!.message).toMatch(/publicNetworkAccess/);
    expect((await sharedKeys({ disableLocalAuth: false, publicNetworkAccess: "Disabled", tags: { [LOCAL_AUTH_TAG]: "convenience" } }))[0]!.message).toMatch(/disableLocalAuth/);
  });
});
