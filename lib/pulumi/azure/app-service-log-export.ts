import * as eventhub from "@pulumi/azure-native/eventhub/index.js";
import * as monitor from "@pulumi/azure-native/monitor/index.js";
import * as storage from "@pulumi/azure-native/storage/index.js";
import * as pulumi from "@pulumi/pulumi";
import { AZURE_EVENT_HUBS_CHECKPOINT_CONTAINER, AZURE_EVENT_HUBS_SECRET_KEYS, type AzureEventHubsLogInput } from "../../kubernetes/log-pipeline.js";
import { LOCAL_AUTH_TAG, LOGSTASH_LOCAL_AUTH } from "../../plan/azure.js";
import { privateEndpoint } from "./private-endpoint.js";

/** The App Service resource log categories ELK receives: container stdout/stderr, front-end HTTP requests, application logging. */
export const APP_SERVICE_LOG_CATEGORIES = ["AppServiceConsoleLogs", "AppServiceHTTPLogs", "AppServiceAppLogs"] as const;
/** Name of the second diagnostic setting of each app (the first, `msa-landing-zone`, feeds Log Analytics). */
export const ELK_DIAGNOSTIC_SETTING_NAME = "msa-landing-zone-elk";
/** The hub the apps' diagnostic settings stream into. */
export const APP_SERVICE_LOGS_HUB = "app-service-logs";
/** The consumer group only Logstash reads. */
export const LOGSTASH_CONSUMER_GROUP = "logstash";
/** Kubernetes Secret (logging namespace) with the hub's and the checkpoint storage's connection strings. */
export const APP_SERVICE_LOG_SECRET = "app-service-log-export";
/** The hub's SAS rule whose connection string Logstash gets: Listen only. */
export const LOGSTASH_LISTEN_RULE = "logstash-listen";
/** Partitions of the hub: Logstash replicas share them through the blob checkpoints. */
export const APP_SERVICE_LOGS_PARTITIONS = 4;

/** Arguments of {@link AppServiceLogExport}. */
export interface AppServiceLogExportArgs {
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region of the apps: diagnostic settings stream only to a namespace in their own region. */
  readonly location: pulumi.Input<string>;
  /** Globally unique Event Hubs namespace name. */
  readonly namespaceName: pulumi.Input<string>;
  /** Globally unique storage account name (3-24 lowercase letters and digits) of Logstash's checkpoints. */
  readonly storageAccountName: pulumi.Input<string>;
  /** The web apps whose logs are exported, by service name: each gets a diagnostic setting. */
  readonly apps: Readonly<Record<string, pulumi.Input<string>>>;
  /** The only way in for Logstash: the namespace's and the account's private endpoints (public network access is disabled on both). */
  readonly privateEndpoints: {
    readonly subnetId: pulumi.Input<string>;
    /** `privatelink.servicebus.windows.net` */
    readonly namespaceDnsZoneId: pulumi.Input<string>;
    /** `privatelink.blob.core.windows.net` */
    readonly blobDnsZoneId: pulumi.Input<string>;
  };
  /**
   * Days the hub keeps entries a stopped Logstash has not read yet.
   * @default 7
   */
  readonly retentionDays?: number;
  /**
   * Protect the namespace and the storage account and keep them when the stack is destroyed.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly namespace?: (args: eventhub.NamespaceArgs) => void;
    readonly storageAccount?: (args: storage.StorageAccountArgs) => void;
  };
}

/**
 * App Service logs for the ELK pipeline, as the GCP App Engine export does through Pub/Sub: each web
 * app's console, HTTP and application logs go by a diagnostic setting of its own to one event hub,
 * which Logstash's `azure_event_hubs` input reads in its own consumer group, keeping its offsets in a
 * blob container. That input authenticates only with connection strings, so the namespace keeps
 * local (SAS) authentication: Logstash's rule may only listen on that hub, Azure Monitor's rule holds
 * the Manage, Send and Listen rights diagnostic settings require, and both connection strings leave
 * Pulumi only as secrets (`logstashSecret`). The namespace and the storage account take no public
 * traffic: Logstash reaches them through private endpoints, and Azure Monitor writes as a trusted
 * Microsoft service. The storage account allows TLS 1.2 only, no anonymous blob access.
 *
 * Cost: an Event Hubs Standard throughput unit bills hourly, plus ingress per million events; the
 * storage account bills per GiB and transaction; each private endpoint bills hourly.
 *
 * @example
 * const logs = new AppServiceLogExport("shop-app-logs", { resourceGroupName, location: "koreacentral", namespaceName: "shop-prod-logs-1a2b3c",
 *   storageAccountName: "shopprodlogs1a2b3c", apps: { orders: orders.nodes.app.id },
 *   privateEndpoints: { subnetId, namespaceDnsZoneId, blobDnsZoneId } });
 * new LogPipeline("shop-logging", { plan, provider, logstash: { cloudInputs: [logs.logstashInput] }, secrets: [logs.logstashSecret] });
 */
export class AppServiceLogExport extends pulumi.ComponentResource {
  /** What Logstash's pipeline reads (`LogPipelineOptions.cloudInputs`). */
  readonly logstashInput: AzureEventHubsLogInput;
  /** The Secret the input reads, to create in the logging namespace; its data is a Pulumi secret. */
  readonly logstashSecret: { readonly name: string; readonly stringData: pulumi.Output<Record<string, string>> };
  readonly nodes: {
    readonly namespace: eventhub.Namespace;
    readonly hub: eventhub.EventHub;
    readonly storageAccount: storage.StorageAccount;
    readonly diagnosticSettings: Readonly<Record<string, monitor.DiagnosticSetting>>;
  };

  constructor(name: string, args: AppServiceLogExportArgs, opts?: pulumi.ComponentResourceOptions) {
    const retentionDays = args.retentionDays ?? 7;
    if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 7) {
      throw new Error(`AppServiceLogExport ${name}: retentionDays ${retentionDays} is outside the 1-7 days Event Hubs Standard keeps. Fix: use 1 to 7`);
    }
    if (Object.keys(args.apps).length === 0) throw new Error(`AppServiceLogExport ${name}: apps is empty. Fix: pass the web app id of each service whose logs ELK receives`);
    super("msa:azure:AppServiceLogExport", name, {}, opts);
    const parent = { parent: this };
    const kept = { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) };
    const tags = { ...args.tags };
    const { resourceGroupName, location } = args;

    const namespaceArgs: eventhub.NamespaceArgs = {
      resourceGroupName,
      location,
      namespaceName: args.namespaceName,
      sku: { name: "Standard", tier: "Standard", capacity: 1 },
      // Logstash's azure_event_hubs input has no Entra ID sign-in: SAS stays, scoped by the two rules below.
      disableLocalAuth: false,
      minimumTlsVersion: "1.2",
      publicNetworkAccess: "Disabled",
      // The policy pack accepts SAS on this namespace for this reason only, and only while it is closed to public networks.
      tags: { ...tags, [LOCAL_AUTH_TAG]: LOGSTASH_LOCAL_AUTH },
    };
    args.transform?.namespace?.(namespaceArgs);
    const namespace = new eventhub.Namespace(`${name}-namespace`, namespaceArgs, kept);
    // Azure Monitor is a trusted service: it writes past the closed firewall; everyone else comes through the private endpoint.
    new eventhub.NamespaceNetworkRuleSet(
      `${name}-network-rules`,
      { resourceGroupName, namespaceName: namespace.name, publicNetworkAccess: "Disabled", defaultAction: "Deny", trustedServiceAccessEnabled: true, ipRules: [], virtualNetworkRules: [] },
      parent,
    );
    privateEndpoint(`${name}-namespace-endpoint`, { resourceGroupName, subnetId: args.privateEndpoints.subnetId, resourceId: namespace.id, group: "namespace", privateDnsZoneId: args.privateEndpoints.namespaceDnsZoneId, tags }, this);

    const hub = new eventhub.EventHub(
      `${name}-hub`,
      { resourceGroupName, namespaceName: namespace.name, eventHubName: APP_SERVICE_LOGS_HUB, partitionCount: APP_SERVICE_LOGS_PARTITIONS, messageRetentionInDays: retentionDays },
      kept,
    );
    new eventhub.ConsumerGroup(`${name}-logstash`, { resourceGroupName, namespaceName: namespace.name, eventHubName: hub.name, consumerGroupName: LOGSTASH_CONSUMER_GROUP }, parent);
    const listen = new eventhub.EventHubAuthorizationRule(
      `${name}-logstash-listen`,
      { resourceGroupName, namespaceName: namespace.name, eventHubName: hub.name, authorizationRuleName: LOGSTASH_LISTEN_RULE, rights: ["Listen"] },
      parent,
    );
    // Diagnostic settings take a namespace rule and require exactly these rights.
    const monitorRule = new eventhub.NamespaceAuthorizationRule(
      `${name}-azure-monitor`,
      { resourceGroupName, namespaceName: namespace.name, authorizationRuleName: "azure-monitor-send", rights: ["Manage", "Send", "Listen"] },
      parent,
    );

    const accountArgs: storage.StorageAccountArgs = {
      resourceGroupName,
      location,
      accountName: args.storageAccountName,
      kind: "StorageV2",
      sku: { name: "Standard_LRS" },
      accessTier: "Hot",
      enableHttpsTrafficOnly: true,
      minimumTlsVersion: "TLS1_2",
      allowBlobPublicAccess: false,
      // The input's checkpoint store signs in with the account key only.
      allowSharedKeyAccess: true,
      publicNetworkAccess: "Disabled",
      networkRuleSet: { defaultAction: "Deny", bypass: "None" },
      encryption: { keySource: "Microsoft.Storage", requireInfrastructureEncryption: true, services: { blob: { enabled: true, keyType: "Account" } } },
      tags,
    };
    args.transform?.storageAccount?.(accountArgs);
    const storageAccount = new storage.StorageAccount(`${name}-checkpoints`, accountArgs, kept);
    new storage.BlobContainer(
      `${name}-checkpoints`,
      { resourceGroupName, accountName: storageAccount.name, containerName: AZURE_EVENT_HUBS_CHECKPOINT_CONTAINER, publicAccess: "None" },
      parent,
    );
    privateEndpoint(`${name}-blob-endpoint`, { resourceGroupName, subnetId: args.privateEndpoints.subnetId, resourceId: storageAccount.id, group: "blob", privateDnsZoneId: args.privateEndpoints.blobDnsZoneId, tags }, this);

    const diagnosticSettings: Record<string, monitor.DiagnosticSetting> = {};
    for (const [service, appId] of Object.entries(args.apps)) {
      diagnosticSettings[service] = new monitor.DiagnosticSetting(
        `${name}-${service}`,
        {
          name: ELK_DIAGNOSTIC_SETTING_NAME,
          resourceUri: appId,
          eventHubAuthorizationRuleId: monitorRule.id,
          eventHubName: hub.name,
          logs: APP_SERVICE_LOG_CATEGORIES.map((category) => ({ category, enabled: true })),
          metrics: [],
        },
        { parent: this, dependsOn: [hub] },
      );
    }

    const hubKeys = eventhub.listEventHubKeysOutput(
      { resourceGroupName, namespaceName: namespace.name, eventHubName: hub.name, authorizationRuleName: LOGSTASH_LISTEN_RULE },
      { parent: this, dependsOn: [listen] },
    );
    const accountKeys = storage.listStorageAccountKeysOutput({ resourceGroupName, accountName: storageAccount.name }, parent);
    const stringData = pulumi.secret(
      pulumi.all([hubKeys.primaryConnectionString, storageAccount.name, accountKeys.keys]).apply(([hubConnection, account, keys]): Record<string, string> => ({
        [AZURE_EVENT_HUBS_SECRET_KEYS.eventHub]: hubConnection,
        [AZURE_EVENT_HUBS_SECRET_KEYS.storage]: `DefaultEndpointsProtocol=https;AccountName=${account};AccountKey=${keys[0]!.value};EndpointSuffix=core.windows.net`,
      })),
    );

    this.logstashInput = { kind: "azure-event-hubs", consumerGroup: LOGSTASH_CONSUMER_GROUP, secretName: APP_SERVICE_LOG_SECRET };
    this.logstashSecret = { name: APP_SERVICE_LOG_SECRET, stringData };
    this.nodes = { namespace, hub, storageAccount, diagnosticSettings };
    this.registerOutputs({ namespaceId: namespace.id, hubName: hub.name });
  }
}
