import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { vmCloudInit } from "../../../lib/plan/azure-vm.js";
import { planLandingZone } from "../../../lib/plan/planner.js";
import { ConfigStore } from "../../../lib/pulumi/azure/config-store.js";
import { AZURE_ROLES } from "../../../lib/pulumi/azure/roles.js";
import { ed25519PublicKey } from "../../../lib/pulumi/azure/vm-service.js";
import { createLandingZone } from "../../../lib/pulumi/index.js";
import type { LandingZoneInput } from "../../../lib/spec/schema.js";
import { byType, childrenOf, runProgram, single, type RegisteredResource } from "../harness.js";

/** The Azure example with only the service model changed, and what Azure offers only on clusters turned off. */
function shopOn(tier: "iaas" | "paas"): LandingZoneInput {
  const example = parse(readFileSync("examples/azure/landing-zone.yaml", "utf8")) as LandingZoneInput;
  return { ...example, tier, mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" } };
}
const idOf = (r: RegisteredResource) => String(r.outputs["id"]);
const roleOf = (r: RegisteredResource) => String(r.inputs["roleDefinitionId"]).split("/").pop();

describe("Azure IaaS: a scale set per service behind the gateway", async () => {
  const spec = shopOn("iaas");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const scaleSets = byType(resources, "azure-native:compute:VirtualMachineScaleSet");
  const orders = scaleSets.find((s) => s.parent === "shop-orders")!;
  type Profile = {
    osProfile: { customData: string; linuxConfiguration: { disablePasswordAuthentication: boolean; ssh: { publicKeys: { keyData: string }[] } } };
    networkProfile: { networkInterfaceConfigurations: { ipConfigurations: Record<string, unknown>[] }[] };
    securityProfile: Record<string, unknown>;
    extensionProfile: { extensions: { name: string; type: string; settings?: Record<string, unknown> }[] };
    storageProfile: { osDisk: Record<string, unknown> };
  };
  const profile = (s: RegisteredResource) => s.inputs["virtualMachineProfile"] as Profile;

  it("creates one VmService per service and BFF, no cluster", () => {
    expect(byType(resources, "msa:azure:VmService").map((r) => r.name)).toEqual(plan.services.map((s) => `shop-${s.name}`));
    expect(scaleSets).toHaveLength(plan.services.length);
    expect(resources.some((r) => r.type.startsWith("azure-native:containerservice:") || r.type.startsWith("kubernetes:"))).toBe(false);
    expect(childrenOf(resources, "shop").map((r) => r.type)).toEqual(expect.arrayContaining(["msa:azure:ServiceDiscovery", "msa:azure:ContainerRegistry", "msa:azure:ApiGateway"]));
  });

  it("gives instances no public IP, no password login, encrypted Trusted Launch disks and health-driven repairs", () => {
    for (const scaleSet of scaleSets) {
      const p = profile(scaleSet);
      for (const nic of p.networkProfile.networkInterfaceConfigurations) for (const ip of nic.ipConfigurations) expect(ip["publicIPAddressConfiguration"], scaleSet.name).toBeUndefined();
      expect(p.osProfile.linuxConfiguration.disablePasswordAuthentication).toBe(true);
      expect(p.osProfile.linuxConfiguration.ssh.publicKeys[0]!.keyData).toMatch(/^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAI/);
      expect(p.securityProfile).toEqual({ encryptionAtHost: true, securityType: "TrustedLaunch", uefiSettings: { secureBootEnabled: true, vTpmEnabled: true } });
      expect(p.storageProfile.osDisk).toMatchObject({ managedDisk: { storageAccountType: "Premium_LRS" }, diskSizeGB: plan.vms!.rootVolumeGiB });
      expect(p.extensionProfile.extensions.map((e) => e.type)).toEqual(["ApplicationHealthLinux", "AADSSHLoginForLinux"]);
      expect(scaleSet.inputs).toMatchObject({ upgradePolicy: { mode: "Rolling" }, automaticRepairsPolicy: { enabled: true }, zones: ["1", "2", "3"], zoneBalance: true });
    }
    const ordersService = plan.services.find((s) => s.name === "orders")!;
    expect(profile(orders).extensionProfile.extensions[0]!.settings).toEqual({ protocol: "http", port: ordersService.port, requestPath: ordersService.healthPath });
    expect(orders.inputs["sku"]).toMatchObject({ name: plan.vms!.instanceType, capacity: ordersService.replicas.min });
    const autoscale = byType(resources, "azure-native:monitor:AutoscaleSetting").find((a) => a.parent === "shop-orders")!;
    expect(autoscale.inputs["targetResourceUri"]).toBe(idOf(orders));
    expect((autoscale.inputs["profiles"] as { capacity: unknown }[])[0]!.capacity).toEqual({ minimum: "2", maximum: "6", default: "2" });
  });

  it("runs the service's container from ACR with its own identity, which may only pull and use its own topics", () => {
    const identity = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity");
    expect(orders.inputs["identity"]).toEqual({ type: "UserAssigned", userAssignedIdentities: [idOf(identity)] });
    const script = Buffer.from(profile(orders).osProfile.customData, "base64").toString("utf8");
    expect(script.startsWith("#cloud-config\n")).toBe(true);
    const registry = single(resources, "azure-native:containerregistry:Registry");
    expect(script).toContain(`docker pull ${String(registry.inputs["registryName"])}.azurecr.io/shop-orders:latest`);
    expect(script).toContain(`client_id=${String(identity.outputs["clientId"])}`);
    expect(script).toContain("--cap-drop ALL --security-opt no-new-privileges");
    // The registry login trades the identity's token; no registry password exists anywhere.
    expect(script).toContain("grant_type=access_token");
    expect(script).not.toMatch(/adminPassword|REGISTRY_PASSWORD/);
    const grants = byType(resources, "azure-native:authorization:RoleAssignment").filter((r) => r.parent === "shop-orders");
    expect(grants.map(roleOf).sort()).toEqual(
      [
        AZURE_ROLES.acrPull,
        AZURE_ROLES.serviceBusDataReceiver,
        AZURE_ROLES.serviceBusDataReceiver,
        // its place-order saga command queue
        AZURE_ROLES.serviceBusDataReceiver,
        AZURE_ROLES.serviceBusDataSender,
        AZURE_ROLES.keyVaultSecretsUser,
        AZURE_ROLES.appConfigurationDataReader,
        // orders consumes payment-completed, which the event-sourced payments streams on Event Hubs.
        AZURE_ROLES.eventHubsDataReceiver,
      ].sort(),
    );
    // Settings and secrets are read at start from App Configuration and Key Vault: only their addresses are in the VM model.
    const signing = single(resources, "azure-native:keyvault:Secret", "shop-config-orders-signing-key");
    expect(script).toContain(`${String((signing.outputs["properties"] as { secretUri: string }).secretUri)}?api-version=7.4`);
    expect(script).not.toContain((signing.inputs["properties"] as { value: string }).value);
    expect(script).not.toContain("LOG_LEVEL=info");
    expect(script).toMatch(/azconfig\.io\/kv\?key=orders:\*&label=prod/);
    expect(grants.find((g) => roleOf(g) === AZURE_ROLES.acrPull)!.inputs["scope"]).toBe(idOf(registry));
    expect(orders.dependsOn).toEqual(expect.arrayContaining(grants.map((g) => g.name)));
  });

  it("puts each exposed service's instances in its gateway pool and its discovery pool, found by private DNS", () => {
    const gateway = single(resources, "azure-native:network:ApplicationGateway");
    const pools = (gateway.inputs["backendAddressPools"] as { name: string }[]).map((p) => p.name);
    expect(pools).toEqual(["unrouted", ...plan.services.filter((s) => s.expose).map((s) => s.name)]);
    const ip = profile(orders).networkProfile.networkInterfaceConfigurations[0]!.ipConfigurations[0]!;
    expect((ip["applicationGatewayBackendAddressPools"] as { id: string }[])[0]!.id).toMatch(/\/applicationGateways\/shop-prod-gateway\/backendAddressPools\/orders$/);
    expect((ip["loadBalancerBackendAddressPools"] as { id: string }[])[0]!.id).toMatch(/\/loadBalancers\/shop-prod-discovery\/backendAddressPools\/orders$/);
    // Each frontend takes a dynamic address, and its record the address it got: nothing depends on the service's position.
    const lb = single(resources, "azure-native:network:LoadBalancer");
    type Frontend = { name: string; privateIPAllocationMethod: string; privateIPAddress?: string };
    const frontends = lb.inputs["frontendIPConfigurations"] as Frontend[];
    expect(frontends.map((f) => [f.name, f.privateIPAllocationMethod, f.privateIPAddress])).toEqual(plan.services.map((s) => [s.name, "Dynamic", undefined]));
    const got = Object.fromEntries((lb.outputs["frontendIPConfigurations"] as Frontend[]).map((f) => [f.name, f.privateIPAddress]));
    const records = byType(resources, "azure-native:privatedns:PrivateRecordSet");
    expect(records.map((r) => [r.inputs["relativeRecordSetName"], (r.inputs["aRecords"] as { ipv4Address: string }[])[0]!.ipv4Address])).toEqual(plan.services.map((s) => [s.name, got[s.name]]));
    expect(new Set(Object.values(got)).size).toBe(plan.services.length);
    expect(byType(resources, "azure-native:privatedns:PrivateZone").map((z) => z.inputs["privateZoneName"])).toContain("shop.internal");
    // Every frontend answers on port 80 and forwards to the service's own port, so http://<service>.shop.internal reaches any service.
    type Rule = { name: string; disableOutboundSnat: boolean; frontendPort: number; backendPort: number };
    expect((lb.inputs["loadBalancingRules"] as Rule[]).map((r) => [r.name, r.frontendPort, r.backendPort, r.disableOutboundSnat])).toEqual(plan.services.map((s) => [s.name, 80, s.port, true]));
    // One discovery variable, the same for every service, and no per-service URL list in the instances' model.
    for (const scaleSet of scaleSets) {
      expect(script(scaleSet)).toContain("SERVICE_DISCOVERY_DOMAIN=shop.internal");
      expect(script(scaleSet)).not.toMatch(/SERVICE_[A-Z_]+_URL=/);
    }
    // The gateway reaches the instances on the service port, and nothing else is open to it.
    const nsg = byType(resources, "azure-native:network:NetworkSecurityGroup").find((g) => g.name === "shop-network-workloads-nsg")!;
    expect((nsg.inputs["securityRules"] as { name: string; destinationPortRange?: string }[]).find((r) => r.name === "AllowGateway")!.destinationPortRange).toBe("8080");
  });

  it("tells orders which PostgreSQL user to sign in as: the role its Entra administrator is named after, and tells no other service", () => {
    const identity = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity");
    const admin = single(resources, "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra");
    expect(identity.outputs["name"]).toBe("shop-orders-identity");
    expect(admin.inputs).toMatchObject({ objectId: identity.outputs["principalId"], principalName: identity.outputs["name"] });
    const envFile = envFileOf(orders);
    expect(envFile).toContain(`DATABASE_USER=${String(admin.inputs["principalName"])}`);
    expect(envFile).toContain("DATABASE_ENGINE=postgres");
    expect(envFile).toContain("DATABASE_AUTH=entra-id");
    for (const scaleSet of scaleSets.filter((s) => s !== orders)) expect(envFileOf(scaleSet), scaleSet.parent).not.toContain("DATABASE_USER=");
    expect(envFileOf(scaleSets.find((s) => s.parent === "shop-inventory")!)).toContain("DATABASE_ENGINE=document");
  });

  it("alerts on each scale set's CPU from the metrics it sends to the workspace", () => {
    const cpu = single(resources, "azure-native:monitor:ScheduledQueryRule", "shop-monitoring-orders-cpu");
    const query = (cpu.inputs["criteria"] as { allOf: { query: string }[] }).allOf[0]!.query;
    expect(query).toBe(`AzureMetrics | where ResourceId =~ "${idOf(orders)}" and MetricName == "Percentage CPU" | summarize cpu = avg(Average)`);
    const diagnostics = byType(resources, "azure-native:monitor:DiagnosticSetting").find((d) => d.inputs["resourceUri"] === idOf(orders))!;
    expect(diagnostics.inputs["metrics"]).toEqual([{ category: "AllMetrics", enabled: true }]);
  });

  function script(scaleSet: RegisteredResource): string {
    return Buffer.from(profile(scaleSet).osProfile.customData, "base64").toString("utf8");
  }

  /** The instance's environment file, as cloud-init writes it. */
  function envFileOf(scaleSet: RegisteredResource): string {
    const files = (parse(script(scaleSet)) as { write_files: { path: string; content: string }[] }).write_files;
    return files.find((f) => f.path === `/etc/msa/${String(scaleSet.parent).replace(/^shop-/, "")}.env`)!.content;
  }
});

describe("Azure PaaS: a private web app per service on one App Service plan", async () => {
  const spec = shopOn("paas");
  const plan = planLandingZone(spec, { engine: "pulumi" });
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));
  const apps = byType(resources, "azure-native:web:WebApp");

  it("runs every service as a container web app, HTTPS only, TLS 1.2+, no FTP, reachable only privately", () => {
    expect(apps.map((a) => a.parent)).toEqual(plan.services.map((s) => `shop-${s.name}`));
    const integration = byType(resources, "azure-native:network:Subnet").find((s) => s.inputs["subnetName"] === "workloads")!;
    expect(integration.inputs["delegations"]).toEqual([{ name: "Microsoft-Web", serviceName: "Microsoft.Web/serverFarms" }]);
    const planResource = single(resources, "azure-native:web:AppServicePlan");
    expect(planResource.inputs).toMatchObject({ kind: "linux", reserved: true, sku: { name: "P1v3", tier: "PremiumV3", capacity: 2 }, zoneRedundant: true });
    for (const app of apps) {
      const identity = resources.find((r) => r.name === `${app.parent}-identity`)!;
      expect(app.inputs).toMatchObject({
        kind: "app,linux,container",
        serverFarmId: idOf(planResource),
        httpsOnly: true,
        publicNetworkAccess: "Disabled",
        virtualNetworkSubnetId: idOf(integration),
        outboundVnetRouting: { allTraffic: true, imagePullTraffic: true },
        identity: { type: "UserAssigned", userAssignedIdentities: [idOf(identity)] },
        siteConfig: { minTlsVersion: "1.2", scmMinTlsVersion: "1.2", ftpsState: "Disabled", acrUseManagedIdentityCreds: true, acrUserManagedIdentityID: identity.outputs["clientId"], remoteDebuggingEnabled: false, alwaysOn: true },
      });
      expect(String((app.inputs["siteConfig"] as { linuxFxVersion: string }).linuxFxVersion)).toMatch(/^DOCKER\|shopprodregistry[0-9a-f]{6}\.azurecr\.io\/shop-[a-z-]+:latest$/);
    }
    expect(byType(resources, "azure-native:web:WebAppFtpAllowed").every((r) => r.inputs["allow"] === false)).toBe(true);
    expect(byType(resources, "azure-native:web:WebAppScmAllowed").every((r) => r.inputs["allow"] === false)).toBe(true);
    const endpoints = byType(resources, "azure-native:network:PrivateEndpoint").filter((e) => (e.inputs["privateLinkServiceConnections"] as { groupIds: string[] }[])[0]!.groupIds[0] === "sites");
    expect(endpoints.map((e) => e.parent).sort()).toEqual(plan.services.map((s) => `shop-${s.name}`).sort());
  });

  it("keeps settings in App Configuration and secrets in Key Vault, both reaching the app as references", () => {
    const store = single(resources, "azure-native:appconfiguration:ConfigurationStore");
    expect(store.inputs).toMatchObject({ sku: { name: "standard" }, disableLocalAuth: true, publicNetworkAccess: "Disabled", dataPlaneProxy: { authenticationMode: "Pass-through", privateLinkDelegation: "Enabled" } });
    const values = byType(resources, "azure-native:appconfiguration:KeyValue");
    const ordersEntries = values.filter((v) => String(v.inputs["keyValueName"]).startsWith("orders:"));
    expect(ordersEntries.map((v) => v.inputs["keyValueName"]).sort()).toEqual(["orders:LOG_LEVEL$prod", "orders:SIGNING_KEY$prod"]);
    const reference = ordersEntries.find((v) => String(v.inputs["keyValueName"]).startsWith("orders:SIGNING_KEY"))!;
    expect(reference.inputs["contentType"]).toBe("application/vnd.microsoft.appconfig.keyvaultref+json;charset=utf-8");
    expect(JSON.parse(String(reference.inputs["value"]))).toEqual({ uri: expect.stringMatching(/^https:\/\/shop-prod-kv-[0-9a-f]{6}\.vault\.azure\.net\/secrets\/orders-signing-key$/) });
    const writer = single(resources, "azure-native:authorization:RoleAssignment", "shop-config-deployer-writes-settings");
    expect(roleOf(writer)).toBe(AZURE_ROLES.appConfigurationDataOwner);
    expect(values.every((v) => v.dependsOn.includes(writer.name))).toBe(true);
    const orders = apps.find((a) => a.parent === "shop-orders")!;
    const settings = Object.fromEntries(((orders.inputs["siteConfig"] as { appSettings: { name: string; value: string }[] }).appSettings).map((s) => [s.name, s.value]));
    expect(settings["SIGNING_KEY"]).toMatch(/^@Microsoft\.KeyVault\(SecretUri=https:\/\/shop-prod-kv-[0-9a-f]{6}\.vault\.azure\.net\/secrets\/orders-signing-key\)$/);
    expect(settings["LOG_LEVEL"]).toMatch(/^@Microsoft\.AppConfiguration\(Endpoint=https:\/\/shop-prod-config-[0-9a-f]{6}\.azconfig\.io; Key=orders:LOG_LEVEL; Label=prod\)$/);
    // Traces go straight to Application Insights through the Azure Monitor OpenTelemetry distribution.
    const insights = single(resources, "azure-native:applicationinsights:Component");
    expect(settings).toMatchObject({ APPLICATIONINSIGHTS_CONNECTION_STRING: insights.outputs["connectionString"], OTEL_SERVICE_NAME: "orders", OTEL_TRACES_SAMPLER_ARG: "0.1" });
    expect(orders.inputs["keyVaultReferenceIdentity"]).toBe(idOf(resources.find((r) => r.name === "shop-orders-identity")!));
  });

  it("routes the gateway to each app's private host over HTTPS with the app's own host name", () => {
    const gateway = single(resources, "azure-native:network:ApplicationGateway");
    const pools = gateway.inputs["backendAddressPools"] as { name: string; backendAddresses: { fqdn?: string }[] }[];
    const orders = apps.find((a) => a.parent === "shop-orders")!;
    expect(pools.find((p) => p.name === "orders")!.backendAddresses).toEqual([{ fqdn: orders.outputs["defaultHostName"] }]);
    const settings = (gateway.inputs["backendHttpSettingsCollection"] as { name: string; port: number; protocol: string; pickHostNameFromBackendAddress: boolean }[]).find((s) => s.name === "orders")!;
    expect(settings).toMatchObject({ port: 443, protocol: "Https", pickHostNameFromBackendAddress: true });
    expect(gateway.dependsOn).toEqual(expect.arrayContaining(plan.services.map((s) => `shop-${s.name}`)));
    const settingsOf = (app: RegisteredResource) => Object.fromEntries(((app.inputs["siteConfig"] as { appSettings: { name: string; value: string }[] }).appSettings).map((s) => [s.name, s.value]));
    expect(settingsOf(orders)).toMatchObject({ WEBSITES_PORT: "8080", SESSION_STORE_AUTH: "entra-id" });
  });

  it("tells orders which PostgreSQL user to sign in as: the role its Entra administrator is named after, and tells no other app", () => {
    const identity = single(resources, "azure-native:managedidentity:UserAssignedIdentity", "shop-orders-identity");
    const admin = single(resources, "azure-native:dbforpostgresql:AdministratorsMicrosoftEntra");
    expect(identity.outputs["name"]).toBe("shop-orders-identity");
    expect(admin.inputs).toMatchObject({ objectId: identity.outputs["principalId"], principalName: identity.outputs["name"] });
    const settingsOf = (service: string) =>
      Object.fromEntries(((apps.find((a) => a.parent === `shop-${service}`)!.inputs["siteConfig"] as { appSettings: { name: string; value: string }[] }).appSettings).map((s) => [s.name, s.value]));
    expect(settingsOf("orders")).toMatchObject({ DATABASE_USER: admin.inputs["principalName"], DATABASE_ENGINE: "postgres", DATABASE_AUTH: "entra-id" });
    for (const service of plan.services.filter((s) => s.name !== "orders")) expect(settingsOf(service.name)["DATABASE_USER"], service.name).toBeUndefined();
    expect(settingsOf("inventory")["DATABASE_ENGINE"]).toBe("document");
  });

  it("registers each app's URL in App Configuration, and gives every app the same registry settings and one reader grant on the store", () => {
    const store = single(resources, "azure-native:appconfiguration:ConfigurationStore");
    const writer = single(resources, "azure-native:authorization:RoleAssignment", "shop-config-deployer-writes-settings");
    const registry = byType(resources, "azure-native:appconfiguration:KeyValue").filter((v) => String(v.inputs["keyValueName"]).startsWith("discovery:"));
    // One entry per service, labelled with the environment, its value the app's own host over HTTPS.
    expect(registry.map((v) => v.inputs["keyValueName"])).toEqual(plan.services.map((s) => `discovery:${s.name}$prod`));
    for (const service of plan.services) {
      const entry = registry.find((v) => v.name === `shop-config-discovery-${service.name}`)!;
      const app = apps.find((a) => a.parent === `shop-${service.name}`)!;
      expect(String(app.inputs["name"])).toMatch(new RegExp(`^shop-prod-${service.name}-[0-9a-f]{6}$`));
      expect(entry.inputs).toMatchObject({ configStoreName: store.outputs["name"], value: `https://${String(app.inputs["name"])}.azurewebsites.net`, contentType: "text/plain" });
      expect(entry.parent).toBe("shop-config");
      expect(entry.dependsOn).toContain(writer.name);
    }
    const settingsOf = (app: RegisteredResource) => Object.fromEntries(((app.inputs["siteConfig"] as { appSettings: { name: string; value: string }[] }).appSettings).map((s) => [s.name, s.value]));
    for (const app of apps) {
      expect(settingsOf(app)).toMatchObject({ SERVICE_DISCOVERY_PREFIX: "discovery:", SERVICE_DISCOVERY_LABEL: "prod", APP_CONFIGURATION_ENDPOINT: store.outputs["endpoint"] });
      // No setting names another app, so a new service changes no app's settings (App Service restarts an app when they change).
      expect(Object.keys(settingsOf(app)).filter((k) => /^SERVICE_.+_URL$/.test(k))).toEqual([]);
    }
    // Each app's identity reads the store once (settings and registry alike): App Configuration Data Reader at store scope.
    const assignments = byType(resources, "azure-native:authorization:RoleAssignment");
    for (const service of plan.services) {
      const identity = single(resources, "azure-native:managedidentity:UserAssignedIdentity", `shop-${service.name}-identity`);
      const onStore = assignments.filter((a) => a.inputs["principalId"] === identity.outputs["principalId"] && a.inputs["scope"] === idOf(store));
      expect(onStore.map((a) => [a.name, roleOf(a)])).toEqual([[`${service.name}-read-settings`, AZURE_ROLES.appConfigurationDataReader]]);
    }
    const triples = assignments.map((a) => JSON.stringify([a.inputs["principalId"], a.inputs["roleDefinitionId"], a.inputs["scope"]]));
    expect(new Set(triples).size).toBe(triples.length);
  });
});

describe("Azure PaaS discovery without settings: the store holds only the registry", async () => {
  const spec: LandingZoneInput = { name: "shop", cloud: "azure", tier: "paas", mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" }, services: [{ name: "orders" }, { name: "payments", expose: false }] };
  const { resources } = await runProgram(async () => void (await createLandingZone("shop", { spec })));

  it("creates the store for the registry, and each app reads it with one Data Reader grant", () => {
    const store = single(resources, "azure-native:appconfiguration:ConfigurationStore");
    expect(byType(resources, "azure-native:appconfiguration:KeyValue").map((v) => v.inputs["keyValueName"])).toEqual(["discovery:orders$dev", "discovery:payments$dev"]);
    for (const service of ["orders", "payments"]) {
      const identity = single(resources, "azure-native:managedidentity:UserAssignedIdentity", `shop-${service}-identity`);
      const grants = byType(resources, "azure-native:authorization:RoleAssignment").filter((a) => a.inputs["principalId"] === identity.outputs["principalId"] && a.inputs["scope"] === idOf(store));
      expect(grants.map(roleOf)).toEqual([AZURE_ROLES.appConfigurationDataReader]);
    }
  });

  it("registers nothing when discovery is off", async () => {
    const { resources: off } = await runProgram(async () => void (await createLandingZone("shop", { spec: { ...spec, discovery: { enabled: false } } })));
    expect(byType(off, "azure-native:appconfiguration:ConfigurationStore")).toEqual([]);
    const settings = byType(off, "azure-native:web:WebApp").flatMap((a) => (a.inputs["siteConfig"] as { appSettings: { name: string }[] }).appSettings.map((s) => s.name));
    expect(settings.filter((name) => name.startsWith("SERVICE_DISCOVERY_"))).toEqual([]);
  });
});

describe("Azure IaaS and PaaS input checks", () => {
  it("refuses registry entries of unknown services, or without a store to hold them, before anything is registered", async () => {
    const plan = planLandingZone({ name: "shop", cloud: "azure", tier: "paas", mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" }, services: [{ name: "orders" }] }, { engine: "pulumi" });
    const args = { plan, resourceGroupName: "rg", location: "koreacentral", vaultName: "shop-dev-kv-1a2b3c", privateEndpoints: { subnetId: "subnet", vaultDnsZoneId: "vault-zone", appConfigurationDnsZoneId: "config-zone" } };
    const { resources } = await runProgram(async () => {
      expect(() => new ConfigStore("config", { ...args, appConfigurationName: "shop-dev-config", discoveryUrls: { shipping: "https://x.azurewebsites.net" } })).toThrow(
        /ConfigStore config: discoveryUrls.shipping is not a service of the plan. Fix: use one of orders/,
      );
      expect(() => new ConfigStore("config", { ...args, discoveryUrls: { orders: "https://x.azurewebsites.net" } })).toThrow(/ConfigStore config: discoveryUrls needs appConfigurationName \(undefined\)/);
    });
    expect(resources).toEqual([]);
  });

  it("refuses a tracing backend that needs a cluster, before anything is registered", async () => {
    const { resources } = await runProgram(async () => {
      await expect(createLandingZone("shop", { spec: { ...shopOn("paas"), tracing: { backend: "zipkin" } } })).rejects.toThrow(
        /tracing.backend: "zipkin" runs in a cluster, and azure\/paas has none. Fix: use tracing.backend: cloud/,
      );
    });
    expect(resources).toEqual([]);
  });
});

describe("VM bootstrap helpers", () => {
  it("derives the OpenSSH form of an Ed25519 public key (RFC 8032 test vector 1)", () => {
    const seed = Buffer.from("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60", "hex").toString("base64");
    const blob = Buffer.from(ed25519PublicKey(seed).split(" ")[1]!, "base64");
    expect(blob.subarray(-32).toString("hex")).toBe("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
    expect(() => ed25519PublicKey("c2hvcnQ=")).toThrow(/the seed has 5 bytes/);
  });

  it("refuses configuration an env file cannot carry", () => {
    const plan = planLandingZone({ name: "shop", cloud: "azure", tier: "iaas", mesh: { kind: "none" }, logging: { stack: "none", buffer: "none" }, services: [{ name: "orders", config: { "bad-key": "x" } }] });
    expect(() => vmCloudInit(plan, plan.services[0]!, { image: "r.azurecr.io/o:1", registry: "r.azurecr.io", clientId: "c" })).toThrow(/services\[orders\].config: key "bad-key" is not an environment variable name/);
  });
});
