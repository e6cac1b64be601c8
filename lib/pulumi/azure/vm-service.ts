import * as compute from "@pulumi/azure-native/compute/index.js";
import * as managedidentity from "@pulumi/azure-native/managedidentity/index.js";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { createPrivateKey, createPublicKey } from "node:crypto";
import { VM_IMAGE } from "../../plan/azure.js";
import { vmCloudInit, vmServiceUnit, type VmBootstrapOptions } from "../../plan/azure-vm.js";
import { edgeProxyHost, type EdgeProxyConfigOptions } from "../../plan/edge-proxy.js";
import type { LandingZonePlan, VmPlan } from "../../plan/types.js";
import { cpuAutoscale } from "./autoscale.js";
import { plannedImage, type ContainerRegistry } from "./container-registry.js";
import type { AzureLogBufferLink } from "./log-cluster.js";
import { sendDiagnostics } from "./diagnostics.js";
import { dependencyList } from "../kubernetes/dependencies.js";
import { withPrincipalEnvironment } from "./service-access.js";
import type { ServiceAccess, ServiceIdentity } from "./service-workload.js";

/** The instances' admin user; it has no password and signs in only through Entra ID. */
export const VM_ADMIN_USER = "azureuser";

/** Arguments of {@link VmService}. */
export interface VmServiceArgs {
  /** The landing-zone plan: the service's port, config, replicas and health path come from it. */
  readonly plan: LandingZonePlan;
  /** Name of the service or BFF in `plan.services`. */
  readonly service: string;
  /** VM size and OS disk (`plan.vms`). */
  readonly vms: VmPlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** The workloads subnet; instances get private addresses only. */
  readonly subnetId: pulumi.Input<string>;
  /** Zones the instances are balanced over. */
  readonly zones: readonly string[];
  /** Registry of the service's image; the instances' identity gets AcrPull on it. */
  readonly registry: Pick<ContainerRegistry, "loginServer" | "grantPull">;
  /**
   * Application Gateway backend pools the instances' NICs join.
   * @default - none: the service is not reachable through the gateway
   */
  readonly gatewayBackendPoolIds?: readonly pulumi.Input<string>[];
  /**
   * Load balancer backend pools the NICs join (the internal load balancer of service discovery).
   * @default - none
   */
  readonly loadBalancerBackendPoolIds?: readonly pulumi.Input<string>[];
  /**
   * What the service may use; each grants exactly the service's own share.
   * @default - nothing beyond AcrPull
   */
  readonly access?: readonly ServiceAccess[];
  /**
   * Extra non-secret environment variables (session store, Service Bus namespace).
   * @default - none
   */
  readonly env?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Key Vault URIs of the service's declared secrets, by key; the identity must be allowed to read them (the ConfigStore's grants).
   * @default - none (the service must then declare no secrets)
   */
  readonly secretUris?: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * The App Configuration store the service's settings are read from at start, instead of the VM model.
   * @default - settings written into the instance's environment file
   */
  readonly appConfiguration?: { readonly endpoint: pulumi.Input<string>; readonly label: string };
  /**
   * The service's release record (`ReleaseRecords.endpoint`, `releaseRecordKey(service)`): instances read
   * the image from it at each boot, so a pipeline releases by writing it and reimaging, the model unchanged.
   * The identity needs read on the store (`ReleaseRecords` in `access`).
   * @default - the plan's image, written into the instances' user data
   */
  readonly release?: { readonly endpoint: pulumi.Input<string>; readonly key: string };
  /**
   * Name of the scale set: the landing zone always passes `scaleSetName` (what its pipeline reimages), so turning pipelines on keeps the fleet.
   * @default - autonamed
   */
  readonly scaleSetName?: pulumi.Input<string>;
  /**
   * The log buffer (`LogCluster.buffer`): Filebeat runs beside the service and ships every container's log there.
   * The identity must be allowed to read the password secret (pass the LogCluster in `access`).
   * @default - no shipper
   */
  readonly logBuffer?: AzureLogBufferLink;
  /**
   * An OpenSSH public key for the admin user, which Azure requires. Operators sign in with Entra ID
   * (`az ssh vm`, AADSSHLoginForLinux) and the NSG admits no SSH from outside the subnet.
   * @default - an Ed25519 key whose private half nobody holds (its seed exists only as a secret in state)
   */
  readonly sshPublicKey?: pulumi.Input<string>;
  /**
   * Encrypt OS and temporary disks and caches at the host (needs `Microsoft.Compute/EncryptionAtHost` registered).
   * @default true
   */
  readonly encryptionAtHost?: boolean;
  /**
   * Log Analytics workspace the scale set's metrics (CPU for dashboards and alerts) go to.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * What the edge proxy in front of the service checks, when `plan.edgeProxy` lists the service: the
   * token issuer (`check: jwt`) or the auth service's registered name (`check: ext-authz`). Required then,
   * so the gateway never reaches such a service unchecked.
   * @default - no proxy (the service is not behind one in the plan)
   */
  readonly edgeProxy?: EdgeProxyConfigOptions;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Patches applied to a child's args before it is created.
   * @default - none
   */
  readonly transform?: { readonly scaleSet?: (args: compute.VirtualMachineScaleSetArgs) => void };
}

/**
 * One service on virtual machines: a zone-balanced scale set (Uniform orchestration, for rolling
 * upgrades, automatic repairs and gateway pools) of Trusted Launch Ubuntu instances with no public
 * IP, password login disabled and Entra ID SSH login, encryption at host, a user-assigned identity
 * that pulls the image from ACR with a token (AcrPull only) and holds the service's grants, the
 * container started by cloud-init with its settings and secrets read at each start from App
 * Configuration and Key Vault into tmpfs, the Application Health extension on the service's health path
 * driving repairs and rolling upgrades, automatic OS patching, and CPU autoscaling between the
 * service's replica bounds.
 *
 * When the plan puts an edge proxy in front of the service (`gateway.auth` jwt or authorizer), an
 * Envoy container on the same instances runs the gateway's check (`edgeProxyConfig`) on the proxy
 * port, which the gateway's pool must then target: Application Gateway validates no JWT and calls
 * no authorizer, and a proxy per instance needs no fleet of its own, scales with the service and
 * reaches it on loopback.
 *
 * Cost: each instance bills hourly by size, plus its managed OS disk.
 *
 * @example
 * new VmService("orders", { plan, service: "orders", vms: plan.vms!, resourceGroupName: group.name, location: "eastus",
 *   subnetId: network.subnetIds.workloads, zones: ["1", "2", "3"], registry, gatewayBackendPoolIds: [gateway.backendPoolIds.orders] });
 */
export class VmService extends pulumi.ComponentResource implements ServiceIdentity {
  readonly clientId: pulumi.Output<string>;
  readonly principalId: pulumi.Output<string>;
  readonly identityId: pulumi.Output<string>;
  readonly scaleSetId: pulumi.Output<string>;
  readonly nodes: {
    readonly identity: managedidentity.UserAssignedIdentity;
    readonly grants: readonly pulumi.Resource[];
    readonly scaleSet: compute.VirtualMachineScaleSet;
    readonly sshSeed?: random.RandomBytes;
  };

  constructor(name: string, args: VmServiceArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const service = plan.services.find((s) => s.name === args.service);
    if (!service) throw new Error(`VmService ${name}: service "${args.service}" is not in plan.services (${plan.services.map((s) => s.name).join(", ")}). Fix: pass one of those names`);
    const missing = service.secrets.filter((key) => args.secretUris?.[key] === undefined);
    if (missing.length > 0) {
      throw new Error(`VmService ${name}: services[${service.name}].secrets [${missing.join(", ")}] have no secretUris entry. Fix: pass their Key Vault URIs (ConfigStore.secretUrisOf)`);
    }
    if (args.zones.some((z) => !/^[1-3]$/.test(z))) throw new Error(`VmService ${name}: zones [${args.zones.join(", ")}] are not Azure zone numbers. Fix: use "1", "2" and "3"`);
    const proxied = plan.edgeProxy?.services.includes(service.name) ? plan.edgeProxy : undefined;
    if (proxied && !(proxied.check === "jwt" ? args.edgeProxy?.issuer : args.edgeProxy?.authService)) {
      throw new Error(`VmService ${name} edgeProxy: plan.edgeProxy checks callers of ${service.name} (${proxied.check}), but args.edgeProxy.${proxied.check === "jwt" ? "issuer" : "authService"} is missing. Fix: pass it, as LandingZone does`);
    }
    super("msa:azure:VmService", name, {}, opts);
    const parent = { parent: this };
    const tags = { ...args.tags };
    const { resourceGroupName, location } = args;

    const identity = new managedidentity.UserAssignedIdentity(`${name}-identity`, { resourceGroupName, location, tags }, parent);
    const grants = [args.registry.grantPull(`${name}-acr-pull`, identity.principalId, this), ...(args.access ?? []).flatMap((a) => a.grantAccess(service.name, identity.principalId, this, identity.name))];
    const env = withPrincipalEnvironment(args.env, args.access, service.name, identity.name);

    let sshSeed: random.RandomBytes | undefined;
    let sshPublicKey = args.sshPublicKey;
    if (sshPublicKey === undefined) {
      sshSeed = new random.RandomBytes(`${name}-ssh-seed`, { length: 32 }, parent);
      sshPublicKey = sshSeed.base64.apply((seed) => ed25519PublicKey(seed));
    }

    const release = args.release;
    const image: pulumi.Output<VmBootstrapOptions["image"]> = release
      ? pulumi.output(release.endpoint).apply((endpoint) => ({ record: { endpoint, key: release.key } }))
      : plannedImage(service, args.registry.loginServer);
    const customData = pulumi
      .all([image, args.registry.loginServer, identity.clientId, pulumi.output(env), pulumi.output(args.secretUris ?? {}), pulumi.output(args.appConfiguration?.endpoint), pulumi.output(args.logBuffer?.passwordSecretUri)])
      .apply(([resolvedImage, registry, clientId, env, secrets, endpoint, bufferSecretUri]) =>
        Buffer.from(
          vmCloudInit(plan, service, {
            image: resolvedImage,
            registry,
            clientId,
            env: env as Record<string, string>,
            secrets: secrets as Record<string, string>,
            ...(endpoint && args.appConfiguration ? { appConfiguration: { endpoint, label: args.appConfiguration.label } } : {}),
            ...(proxied && args.edgeProxy ? { edgeProxy: edgeProxyHost(plan, service, vmServiceUnit(service.name), args.edgeProxy) } : {}),
            ...(args.logBuffer && bufferSecretUri ? { logBuffer: { host: args.logBuffer.host, port: args.logBuffer.port, passwordSecretUri: bufferSecretUri, tls: args.logBuffer.tls } } : {}),
          }),
        ).toString("base64"),
      );

    const scaleSetArgs: compute.VirtualMachineScaleSetArgs = {
      resourceGroupName,
      location,
      ...(args.scaleSetName ? { vmScaleSetName: args.scaleSetName } : {}),
      orchestrationMode: "Uniform",
      sku: { name: args.vms.instanceType, tier: "Standard", capacity: service.replicas.min },
      zones: [...args.zones],
      zoneBalance: args.zones.length > 1,
      singlePlacementGroup: false,
      overprovision: false,
      identity: { type: "UserAssigned", userAssignedIdentities: [identity.id] },
      upgradePolicy: {
        mode: "Rolling",
        rollingUpgradePolicy: { maxBatchInstancePercent: 20, maxUnhealthyInstancePercent: 20, maxUnhealthyUpgradedInstancePercent: 20, pauseTimeBetweenBatches: "PT0S" },
      },
      // Instances whose health endpoint fails are replaced after a grace period for boot and container pull.
      automaticRepairsPolicy: { enabled: true, gracePeriod: "PT10M" },
      virtualMachineProfile: {
        osProfile: {
          computerNamePrefix: service.name.slice(0, 20).replace(/-+$/, ""),
          adminUsername: VM_ADMIN_USER,
          customData,
          linuxConfiguration: {
            disablePasswordAuthentication: true,
            provisionVMAgent: true,
            ssh: { publicKeys: [{ path: `/home/${VM_ADMIN_USER}/.ssh/authorized_keys`, keyData: sshPublicKey }] },
            patchSettings: { patchMode: "AutomaticByPlatform", assessmentMode: "AutomaticByPlatform" },
          },
        },
        storageProfile: {
          imageReference: { ...VM_IMAGE },
          osDisk: { createOption: "FromImage", caching: "ReadWrite", diskSizeGB: args.vms.rootVolumeGiB, managedDisk: { storageAccountType: "Premium_LRS" } },
        },
        securityProfile: {
          encryptionAtHost: args.encryptionAtHost ?? true,
          securityType: "TrustedLaunch",
          uefiSettings: { secureBootEnabled: true, vTpmEnabled: true },
        },
        networkProfile: {
          networkInterfaceConfigurations: [
            {
              name: "primary",
              primary: true,
              ipConfigurations: [
                {
                  name: "primary",
                  primary: true,
                  subnet: { id: args.subnetId },
                  // No publicIPAddressConfiguration: instances are reachable only inside the VNet.
                  applicationGatewayBackendAddressPools: (args.gatewayBackendPoolIds ?? []).map((id) => ({ id })),
                  loadBalancerBackendAddressPools: (args.loadBalancerBackendPoolIds ?? []).map((id) => ({ id })),
                },
              ],
            },
          ],
        },
        extensionProfile: {
          extensions: [
            {
              name: "health",
              publisher: "Microsoft.ManagedServices",
              type: "ApplicationHealthLinux",
              typeHandlerVersion: "2.0",
              autoUpgradeMinorVersion: true,
              settings: { protocol: "http", port: service.port, requestPath: service.healthPath },
            },
            {
              name: "entra-ssh",
              publisher: "Microsoft.Azure.ActiveDirectory",
              type: "AADSSHLoginForLinux",
              typeHandlerVersion: "1.0",
              autoUpgradeMinorVersion: true,
            },
          ],
        },
        diagnosticsProfile: { bootDiagnostics: { enabled: true } },
      },
      tags,
    };
    args.transform?.scaleSet?.(scaleSetArgs);
    const scaleSet = new compute.VirtualMachineScaleSet(`${name}-scale-set`, scaleSetArgs, {
      parent: this,
      // Instances boot only once their identity may pull the image and use what it was granted.
      dependsOn: [...dependencyList(opts?.dependsOn), ...grants],
      // The autoscale setting owns the instance count.
      ignoreChanges: ["sku.capacity"],
    });
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, scaleSet.id, args.logWorkspaceId, this, { logs: "none" });
    cpuAutoscale(`${name}-autoscale`, { resourceGroupName, location, targetResourceUri: scaleSet.id, cpuMetric: "Percentage CPU", min: service.replicas.min, max: service.replicas.max, tags }, this);

    this.clientId = identity.clientId;
    this.principalId = identity.principalId;
    this.identityId = identity.id;
    this.scaleSetId = scaleSet.id;
    this.nodes = { identity, grants, scaleSet, ...(sshSeed ? { sshSeed } : {}) };
    this.registerOutputs({ clientId: this.clientId, principalId: this.principalId, scaleSetId: this.scaleSetId });
  }
}

/** The OpenSSH public key (`ssh-ed25519 AAAA...`) of the Ed25519 key with this 32-byte base64 seed. */
export function ed25519PublicKey(seedBase64: string): string {
  const seed = Buffer.from(seedBase64, "base64");
  if (seed.length !== 32) throw new Error(`ed25519PublicKey: the seed has ${seed.length} bytes. Fix: pass 32 random bytes`);
  // PKCS#8 wrapping of a raw Ed25519 seed (RFC 8410).
  const privateKey = createPrivateKey({ key: Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), seed]), format: "der", type: "pkcs8" });
  const raw = createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(-32);
  const field = (bytes: Buffer) => {
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    return Buffer.concat([length, bytes]);
  };
  return `ssh-ed25519 ${Buffer.concat([field(Buffer.from("ssh-ed25519")), field(raw)]).toString("base64")}`;
}
