import * as appconfiguration from "@pulumi/azure-native/appconfiguration/index.js";
import type * as authorization from "@pulumi/azure-native/authorization/index.js";
import * as pulumi from "@pulumi/pulumi";
import { RELEASE_WRITER_PERMISSIONS, releaseRecordKey } from "../../plan/azure-release.js";
import { appConfigurationStore, type AppConfigurationStoreArgs } from "./config-store.js";
import { customRole, grantRole } from "./roles.js";

/** Arguments of {@link ReleaseRecords}. */
export interface ReleaseRecordsArgs {
  /** Resource group of the store. */
  readonly resourceGroupName: pulumi.Input<string>;
  /**
   * The App Configuration store holding the records: an existing one (`ConfigStore.nodes.store`, with the
   * deployer's data-plane grant its writes wait for), or one created here.
   */
  readonly store:
    | { readonly kind: "existing"; readonly id: pulumi.Input<string>; readonly name: pulumi.Input<string>; readonly deployerGrant: pulumi.Resource }
    | ({ readonly kind: "new" } & Omit<AppConfigurationStoreArgs, "resourceGroupName">);
  /** Each service's planned image, by service: the first value of its record. */
  readonly initialImages: Readonly<Record<string, pulumi.Input<string>>>;
}

/**
 * The release record of each service: an App Configuration key-value (`<service>-released-image`) the
 * service's pipeline writes after each successful rollout. Pulumi writes only its first value (the
 * planned image) and ignores later changes; {@link releasedImages} reads the live value through ARM
 * at deploy time, so `pulumi up` deploys what the pipeline released instead of putting the planned image back.
 * Deploy identities get a custom role (key-value read and write, ARM and data plane, no delete) on the
 * store: App Configuration authorizes at store scope only (no key-level or conditional assignments).
 *
 * Cost: none beyond the store (a Standard store bills daily when created here).
 *
 * @example
 * const releases = new ReleaseRecords("shop-releases", {
 *   resourceGroupName: group.name,
 *   store: { kind: "existing", id: config.nodes.store!.id, name: config.nodes.store!.name, deployerGrant: config.nodes.storeWriter! },
 *   initialImages: { orders: pulumi.interpolate`${registry.loginServer}/shop-orders:latest` },
 * });
 * new PaasService("shop-orders", { ...appArgs, image: releases.releasedImages["orders"] });
 */
export class ReleaseRecords extends pulumi.ComponentResource {
  /** Id of the store holding the records. */
  readonly storeId: pulumi.Output<string>;
  /** Data-plane endpoint of the store (`https://<store>.azconfig.io`), which instances read their record from at boot. */
  readonly endpoint: pulumi.Output<string>;
  /** True when the records live in an existing store (the landing zone's settings store), false when the store was created here. */
  readonly inExistingStore: boolean;
  /** The image each service's pipeline released last (its record's live value), by service. */
  readonly releasedImages: Readonly<Record<string, pulumi.Output<string>>>;
  /** Id of the custom role that may read and write key-values of the store. */
  readonly writerRoleId: pulumi.Output<string>;
  readonly nodes: {
    readonly records: Readonly<Record<string, appconfiguration.KeyValue>>;
    readonly writerRole: authorization.RoleDefinition;
    readonly store?: appconfiguration.ConfigurationStore;
  };

  constructor(name: string, args: ReleaseRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:azure:ReleaseRecords", name, {}, opts);
    const { resourceGroupName } = args;
    let store: appconfiguration.ConfigurationStore | undefined;
    let storeId: pulumi.Output<string>;
    let storeName: pulumi.Output<string>;
    let endpoint: pulumi.Output<string>;
    let deployerGrant: pulumi.Resource;
    if (args.store.kind === "existing") {
      storeId = pulumi.output(args.store.id);
      storeName = pulumi.output(args.store.name);
      endpoint = storeName.apply((n) => `https://${n}.azconfig.io`);
      deployerGrant = args.store.deployerGrant;
    } else {
      const { kind: _kind, ...storeArgs } = args.store;
      const created = appConfigurationStore(name, { resourceGroupName, ...storeArgs }, this);
      store = created.store;
      storeId = store.id;
      storeName = store.name;
      endpoint = store.endpoint;
      deployerGrant = created.writer;
    }
    const writerRole = customRole(`${name}-writer`, { resourceId: storeId, purpose: "Release record writer", actions: RELEASE_WRITER_PERMISSIONS.actions, dataActions: RELEASE_WRITER_PERMISSIONS.dataActions }, { parent: this });

    const records: Record<string, appconfiguration.KeyValue> = {};
    const releasedImages: Record<string, pulumi.Output<string>> = {};
    for (const [service, initialImage] of Object.entries(args.initialImages)) {
      const key = releaseRecordKey(service);
      // The pipeline owns later values; Pulumi writes only the first.
      records[service] = new appconfiguration.KeyValue(
        `${name}-${service}`,
        { resourceGroupName, configStoreName: storeName, keyValueName: key, value: initialImage, contentType: "text/plain", tags: { service, purpose: "released image" } },
        { parent: this, dependsOn: [deployerGrant], ignoreChanges: ["value"] },
      );
      releasedImages[service] = appconfiguration
        .getKeyValueOutput({ resourceGroupName, configStoreName: storeName, keyValueName: key }, { parent: this, dependsOn: [records[service]!] })
        .apply((record) => record.value ?? "");
    }

    this.storeId = storeId;
    this.endpoint = endpoint;
    this.inExistingStore = args.store.kind === "existing";
    this.releasedImages = releasedImages;
    this.writerRoleId = writerRole.id;
    this.nodes = { records, writerRole, ...(store ? { store } : {}) };
    this.registerOutputs({ storeId: this.storeId, releasedImages: pulumi.output(releasedImages) });
  }

  /**
   * App Configuration Data Reader on the store, for instances that read their service's record at boot. The
   * store is the narrowest scope App Configuration authorizes (no key-level assignments), so the reader may
   * read every key-value of the store, other services' records included; it cannot write any.
   */
  grantRead(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource): authorization.RoleAssignment {
    return grantRole(`${service}-reads-release`, { role: "appConfigurationDataReader", scope: this.storeId, principalId }, { parent });
  }
}
