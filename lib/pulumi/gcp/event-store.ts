import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { stringify } from "yaml";
import { EVENT_STORE_FORWARDING, type EventStoreLayout } from "../../plan/event-store.js";
import { EVENT_STORE_COLLECTION, eventForwarderDefinition } from "../../plan/event-store-workflow.js";
import { physicalName } from "../../plan/naming.js";
import { FirestoreStore } from "./firestore-store.js";
import { projectOf } from "./project.js";
import type { ServiceAttachment } from "./service-identity.js";

/** Environment of an event-sourced service: its store's database and collection. */
export const EVENT_STORE_ENV = { database: "EVENT_STORE_DATABASE", collection: "EVENT_STORE_COLLECTION" } as const;
/** The Firestore event Eventarc reports for each appended event. */
export const FIRESTORE_CREATED_EVENT = "google.cloud.firestore.document.v1.created";

/** Arguments of {@link EventStore}. */
export interface EventStoreArgs {
  /** The event-sourced service. */
  readonly service: string;
  /** Region of the database, the forwarder and the trigger. */
  readonly region: string;
  /** Prefix of physical names (`<zone>-<env>`). */
  readonly namePrefix: string;
  /** Service account ids of the forwarder and of the trigger (6-30 characters each). */
  readonly accountIds: { readonly forwarder: string; readonly trigger: string };
  /** Full topic id of each event the service publishes; the store forwards exactly these. */
  readonly topics: Readonly<Record<string, pulumi.Input<string>>>;
  /**
   * Field names of a stored event document the forwarder reads (the plan's `eventStore`).
   * @default - EVENT_STORE_FORWARDING.layout: aggregateId, sequence (integer), eventType, payload
   */
  readonly layout?: EventStoreLayout;
  /**
   * Point-in-time recovery and protection of the store, as for databases in prod.
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Days a daily backup of the store is kept; 0 takes none.
   * @default 0
   */
  readonly backupRetentionDays?: number;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: {
    readonly forwarder?: (args: gcp.workflows.WorkflowArgs) => void;
    readonly trigger?: (args: gcp.eventarc.TriggerArgs) => void;
  };
}

/**
 * Event sourcing on GCP: the service appends each state transition to the `events` collection of
 * its own Firestore database (a document per event with id `<aggregateId>-<sequence>`, written
 * with a create-only precondition so two writers cannot take the same sequence), and the store
 * doubles as the broker: Eventarc reports every created document to a forwarder workflow that
 * publishes it to the topic of its type. The forwarder may publish only to those topics; the
 * trigger's account may only invoke the forwarder. IAM cannot make Firestore append-only for its
 * owner, so immutability of stored events rests on that precondition (and the service's code).
 *
 * Cost: Firestore per write and GiB; Workflows per step (three per event); Eventarc per event.
 *
 * @example
 * new EventStore("payments-events", { service: "payments", region, namePrefix: "shop-prod", accountIds: { forwarder: "shop-payments-fwd", trigger: "shop-payments-trg" }, topics: { "payment-completed": topicId } });
 */
export class EventStore extends pulumi.ComponentResource {
  readonly store: FirestoreStore;
  readonly forwarder: gcp.workflows.Workflow;
  readonly trigger: gcp.eventarc.Trigger;
  /** Environment and grants for the event-sourced service. */
  readonly attachment: ServiceAttachment;

  constructor(name: string, args: EventStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    if (Object.keys(args.topics).length === 0) throw new Error(`EventStore ${name}: topics is empty, so the store would forward nothing. Fix: declare services[${args.service}].publishes`);
    super("msa:gcp:EventStore", name, {}, opts);
    const parent = { parent: this };
    const project = projectOf(this);
    const retain = args.retain ?? false;
    this.store = new FirestoreStore(
      `${name}-store`,
      { service: args.service, purpose: "events", region: args.region, namePrefix: args.namePrefix, envVar: EVENT_STORE_ENV.database, pointInTimeRecovery: retain, backupRetentionDays: args.backupRetentionDays ?? 0, retain },
      parent,
    );

    const forwarderAccount = new gcp.serviceaccount.Account(`${name}-forwarder`, { accountId: args.accountIds.forwarder, description: `Forwards ${args.service}'s stored events to the broker` }, parent);
    new gcp.projects.IAMMember(`${name}-forwarder-logs`, { project: project.id, role: "roles/logging.logWriter", member: forwarderAccount.member }, parent);
    const publishers = Object.entries(args.topics).map(
      ([event, topic]) => new gcp.pubsub.TopicIAMMember(`${name}-forward-${event}`, { topic, role: "roles/pubsub.publisher", member: forwarderAccount.member }, parent),
    );
    const workflowName = physicalName("kubernetes", args.namePrefix, args.service, "events");
    const forwarderArgs: gcp.workflows.WorkflowArgs = {
      name: workflowName,
      region: args.region,
      description: `Publishes each event ${args.service} appends to its store`,
      serviceAccount: forwarderAccount.id,
      sourceContents: pulumi.all(args.topics).apply((topics) => stringify(eventForwarderDefinition(topics, args.layout ?? EVENT_STORE_FORWARDING.layout), { lineWidth: 0 })),
      callLogLevel: "LOG_ERRORS_ONLY",
      deletionProtection: false,
    };
    args.transform?.forwarder?.(forwarderArgs);
    this.forwarder = new gcp.workflows.Workflow(`${name}-forwarder`, forwarderArgs, { parent: this, dependsOn: publishers });

    const triggerAccount = new gcp.serviceaccount.Account(`${name}-trigger`, { accountId: args.accountIds.trigger, description: `Delivers ${args.service}'s Firestore events to its forwarder` }, parent);
    const receiver = new gcp.projects.IAMMember(`${name}-trigger-receiver`, { project: project.id, role: "roles/eventarc.eventReceiver", member: triggerAccount.member }, parent);
    const invoker = new gcp.projects.IAMMember(
      `${name}-trigger-invoker`,
      {
        project: project.id,
        role: "roles/workflows.invoker",
        member: triggerAccount.member,
        condition: { title: `only ${workflowName}`, expression: pulumi.interpolate`resource.name == "projects/${project.id}/locations/${args.region}/workflows/${workflowName}"` },
      },
      parent,
    );
    const triggerArgs: gcp.eventarc.TriggerArgs = {
      location: args.region,
      matchingCriterias: [
        { attribute: "type", value: FIRESTORE_CREATED_EVENT },
        { attribute: "database", value: this.store.databaseName },
        { attribute: "document", value: `${EVENT_STORE_COLLECTION}/{event}`, operator: "match-path-pattern" },
      ],
      destination: { workflow: this.forwarder.id },
      serviceAccount: triggerAccount.email,
      eventDataContentType: "application/json",
    };
    args.transform?.trigger?.(triggerArgs);
    this.trigger = new gcp.eventarc.Trigger(`${name}-appended`, triggerArgs, { parent: this, dependsOn: [receiver, invoker] });

    this.attachment = { ...this.store.attachment, env: { ...this.store.attachment.env, [EVENT_STORE_ENV.collection]: EVENT_STORE_COLLECTION } };
    this.registerOutputs({ databaseName: this.store.databaseName });
  }
}
