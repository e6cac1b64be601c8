import * as cosmosdb from "@pulumi/azure-native/cosmosdb/index.js";
import * as eventhub from "@pulumi/azure-native/eventhub/index.js";
import * as pulumi from "@pulumi/pulumi";
import { EVENT_STORE_COSMOS_DATA_ACTIONS, EVENT_STORE_COSMOS_ROLE_NAME } from "../../plan/azure-event-store.js";
import type { LandingZonePlan } from "../../plan/types.js";
import type { DocumentAccount } from "./document-account.js";
import { sendDiagnostics } from "./diagnostics.js";
import { privateEndpoint } from "./private-endpoint.js";
import { grantRole, guidFrom } from "./roles.js";
import type { ServiceAccess } from "./service-workload.js";

/** The container of an event store: one item per event, partitioned by aggregate. */
export const EVENTS_CONTAINER = "events";
/** Environment variables an event-sourced service and its consumers receive. */
export const EVENT_STORE_ENV = { database: "EVENT_STORE_DATABASE", container: "EVENT_STORE_CONTAINER", endpoint: "EVENT_STORE_ENDPOINT", namespace: "EVENT_HUBS_NAMESPACE", hub: "EVENT_HUB_NAME" } as const;
/** Partitions of each event hub: events of one aggregate keep their order on one partition. */
export const EVENT_HUB_PARTITIONS = 4;

/** Arguments of {@link EventStore}. */
export interface EventStoreArgs {
  /** The landing-zone plan: the event-sourced services (`services[].eventStore`) and who consumes their events. */
  readonly plan: LandingZonePlan;
  /** Resource group the resources are created in. */
  readonly resourceGroupName: pulumi.Input<string>;
  /** Azure region, e.g. `koreacentral`. */
  readonly location: pulumi.Input<string>;
  /** The Cosmos DB account the event stores are databases in. */
  readonly documents: Pick<DocumentAccount, "accountId" | "accountName" | "endpoint">;
  /** Globally unique Event Hubs namespace name. */
  readonly namespaceName: pulumi.Input<string>;
  /** The only way in: public network access is disabled. */
  readonly privateEndpoint: { readonly subnetId: pulumi.Input<string>; readonly privateDnsZoneId: pulumi.Input<string> };
  /**
   * Days each event hub keeps events for consumers to replay.
   * @default 7
   */
  readonly retentionDays?: number;
  /**
   * Log Analytics workspace of the namespace's logs.
   * @default - no diagnostics
   */
  readonly logWorkspaceId?: pulumi.Input<string>;
  /**
   * Protect the stores and keep them when the stack is destroyed.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Tags on every taggable child.
   * @default - none
   */
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * Event sourcing on Azure, per event-sourced service: an append-only event store in Cosmos DB (a
 * container partitioned by aggregate id whose unique key on the sequence number turns a concurrent
 * append of the same sequence into a conflict, the conditional write), and an event hub, its
 * partitions keyed by aggregate, that streams the events to the services consuming them, each with
 * its own consumer group. The owner alone appends to and reads its store, through a custom Cosmos DB
 * role without replace, upsert or delete (`EVENT_STORE_COSMOS_DATA_ACTIONS`), and sends to its hub;
 * consumers only receive. Entra ID only, TLS 1.2, private endpoints.
 *
 * Cost: the Event Hubs namespace bills per throughput unit hour; Cosmos per RU/s or request.
 *
 * @example
 * new EventStore("events", { plan, resourceGroupName: group.name, location: "eastus", documents, namespaceName: "shop-prod-events-1a2b3c",
 *   privateEndpoint: { subnetId: network.subnetIds.endpoints, privateDnsZoneId: zoneId } });
 */
export class EventStore extends pulumi.ComponentResource implements ServiceAccess {
  /** `<namespace>.servicebus.windows.net`. */
  readonly namespaceHost: pulumi.Output<string>;
  readonly nodes: {
    readonly namespace: eventhub.Namespace;
    readonly hubs: Readonly<Record<string, eventhub.EventHub>>;
    readonly databases: Readonly<Record<string, cosmosdb.SqlResourceSqlDatabase>>;
    /** The owners' data-plane role: append and read, never change or delete an event. */
    readonly appendRole: cosmosdb.SqlResourceSqlRoleDefinition;
  };
  private readonly owners: readonly string[];
  private readonly consumers: Readonly<Record<string, readonly string[]>>;
  private readonly documents: EventStoreArgs["documents"];
  private readonly resourceGroupName: pulumi.Input<string>;

  constructor(name: string, args: EventStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const { plan } = args;
    const owners = plan.services.filter((s) => s.eventStore).map((s) => s.name);
    if (owners.length === 0) throw new Error(`EventStore ${name}: no service of the plan is event-sourced. Fix: set services[].eventSourced: true, or do not create an EventStore`);
    const retentionDays = args.retentionDays ?? 7;
    if (!Number.isInteger(retentionDays) || retentionDays < 1 || retentionDays > 7) throw new Error(`EventStore ${name}: retentionDays ${retentionDays} is outside the 1-7 days Event Hubs Standard keeps. Fix: use 1 to 7`);
    super("msa:azure:EventStore", name, {}, opts);
    const tags = { ...args.tags };
    const kept = { parent: this, ...(args.retain ? { protect: true, retainOnDelete: true } : {}) };
    const { resourceGroupName } = args;
    this.owners = owners;
    this.documents = args.documents;
    this.resourceGroupName = resourceGroupName;
    // Consumers of a store: the services subscribed to (or projecting) an event its owner publishes.
    this.consumers = Object.fromEntries(
      owners.map((owner) => {
        const events = plan.services.find((s) => s.name === owner)!.publishes;
        const readers = (plan.broker?.topics ?? []).filter((t) => events.includes(t.event)).flatMap((t) => t.subscriptions.map((s) => s.subscriber));
        return [owner, [...new Set(readers)]];
      }),
    );

    const namespace = new eventhub.Namespace(
      `${name}-namespace`,
      {
        resourceGroupName,
        location: args.location,
        namespaceName: args.namespaceName,
        sku: { name: "Standard", tier: "Standard", capacity: 1 },
        disableLocalAuth: true,
        minimumTlsVersion: "1.2",
        publicNetworkAccess: "Disabled",
        kafkaEnabled: true,
        tags,
      },
      kept,
    );
    privateEndpoint(`${name}-endpoint`, { resourceGroupName, subnetId: args.privateEndpoint.subnetId, resourceId: namespace.id, group: "namespace", privateDnsZoneId: args.privateEndpoint.privateDnsZoneId, tags }, this);
    if (args.logWorkspaceId) sendDiagnostics(`${name}-diagnostics`, namespace.id, args.logWorkspaceId, this);

    const hubs: Record<string, eventhub.EventHub> = {};
    const databases: Record<string, cosmosdb.SqlResourceSqlDatabase> = {};
    for (const owner of owners) {
      const database = new cosmosdb.SqlResourceSqlDatabase(
        `${name}-${owner}-database`,
        { resourceGroupName, accountName: args.documents.accountName, databaseName: eventDatabase(owner), resource: { id: eventDatabase(owner) } },
        kept,
      );
      new cosmosdb.SqlResourceSqlContainer(
        `${name}-${owner}-container`,
        {
          resourceGroupName,
          accountName: args.documents.accountName,
          databaseName: database.name,
          containerName: EVENTS_CONTAINER,
          resource: {
            id: EVENTS_CONTAINER,
            partitionKey: { paths: [`/${plan.services.find((s) => s.name === owner)!.eventStore!.aggregateKey}`], kind: "Hash", version: 2 },
            // Unique within the aggregate's partition: a second append of the same sequence number fails.
            uniqueKeyPolicy: { uniqueKeys: [{ paths: [`/${plan.services.find((s) => s.name === owner)!.eventStore!.sequenceKey}`] }] },
          },
        },
        kept,
      );
      databases[owner] = database;
      const hub = new eventhub.EventHub(
        `${name}-${owner}-hub`,
        { resourceGroupName, namespaceName: namespace.name, eventHubName: `${owner}-events`, partitionCount: EVENT_HUB_PARTITIONS, messageRetentionInDays: retentionDays },
        kept,
      );
      hubs[owner] = hub;
      for (const consumer of this.consumers[owner]!) {
        new eventhub.ConsumerGroup(`${name}-${owner}-${consumer}`, { resourceGroupName, namespaceName: namespace.name, eventHubName: hub.name, consumerGroupName: consumer }, { parent: this });
      }
    }

    const appendRole = new cosmosdb.SqlResourceSqlRoleDefinition(
      `${name}-append-role`,
      {
        resourceGroupName,
        accountName: args.documents.accountName,
        roleDefinitionId: pulumi.output(args.documents.accountId).apply((account) => guidFrom(`${account}|${EVENT_STORE_COSMOS_ROLE_NAME}`)),
        roleName: EVENT_STORE_COSMOS_ROLE_NAME,
        type: "CustomRole",
        // Assignable on the event stores alone, not on the account's other databases.
        assignableScopes: owners.map((owner) => pulumi.interpolate`${args.documents.accountId}/dbs/${eventDatabase(owner)}`),
        permissions: [{ dataActions: [...EVENT_STORE_COSMOS_DATA_ACTIONS] }],
      },
      { parent: this },
    );

    this.namespaceHost = pulumi.interpolate`${namespace.name}.servicebus.windows.net`;
    this.nodes = { namespace, hubs, databases, appendRole };
    this.registerOutputs({ namespaceHost: this.namespaceHost });
  }

  /** The owner appends to and reads its store and sends to its hub; each consumer receives from the hubs it reads. */
  grantAccess(service: string, principalId: pulumi.Input<string>, parent: pulumi.Resource): pulumi.Resource[] {
    const grants: pulumi.Resource[] = [];
    if (this.owners.includes(service)) {
      const scope = pulumi.interpolate`${this.documents.accountId}/dbs/${eventDatabase(service)}`;
      const role = this.nodes.appendRole;
      grants.push(
        new cosmosdb.SqlResourceSqlRoleAssignment(
          `${service}-event-store-access`,
          {
            resourceGroupName: this.resourceGroupName,
            accountName: this.documents.accountName,
            roleAssignmentId: pulumi.all([scope, principalId, role.id]).apply(([s, p, r]) => guidFrom(`${s}|${p}|${r}`)),
            roleDefinitionId: role.id,
            scope,
            principalId,
          },
          { parent, dependsOn: [this.nodes.databases[service]!] },
        ),
        grantRole(`${service}-send-events`, { role: "eventHubsDataSender", scope: this.nodes.hubs[service]!.id, principalId }, { parent }),
      );
    }
    for (const [owner, readers] of Object.entries(this.consumers)) {
      if (readers.includes(service)) grants.push(grantRole(`${service}-receive-${owner}-events`, { role: "eventHubsDataReceiver", scope: this.nodes.hubs[owner]!.id, principalId }, { parent }));
    }
    return grants;
  }

  /** The addresses a service needs: its own store and hub when event-sourced, the namespace when it consumes. */
  environment(service: string): Record<string, pulumi.Input<string>> {
    const consumes = Object.values(this.consumers).some((readers) => readers.includes(service));
    if (!this.owners.includes(service)) return consumes ? { [EVENT_STORE_ENV.namespace]: this.namespaceHost } : {};
    return {
      [EVENT_STORE_ENV.endpoint]: this.documents.endpoint,
      [EVENT_STORE_ENV.database]: eventDatabase(service),
      [EVENT_STORE_ENV.container]: EVENTS_CONTAINER,
      [EVENT_STORE_ENV.namespace]: this.namespaceHost,
      [EVENT_STORE_ENV.hub]: `${service}-events`,
    };
  }
}

/** The Cosmos DB database of a service's event store. */
export function eventDatabase(service: string): string {
  return `${service.replace(/-/g, "_")}_events`;
}
