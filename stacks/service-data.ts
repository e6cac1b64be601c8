import { RemovalPolicy, Validations, aws_ec2 as ec2, type aws_iam as iam, aws_kms as kms } from "aws-cdk-lib";
import { Construct } from "constructs";
import { EventStore, type EventStoreForwarding } from "../lib/cdk/event-store.js";
import { grantSagaParticipant, grantSagaStart } from "../lib/cdk/saga-orchestrator.js";
import { ServiceDatabase } from "../lib/cdk/service-database.js";
import { DATA_ENV, sagaEnvName } from "../lib/plan/data.js";
import { eventSource } from "../lib/plan/messaging.js";
import type { LandingZonePlan, ServicePlan } from "../lib/plan/types.js";
import { readParameter, sharedParameters } from "./shared-parameters.js";

export interface ServiceDataProps {
  readonly plan: LandingZonePlan;
  readonly service: ServicePlan;
  /**
   * The security group of the service's own workloads, the only one its relational database admits
   * (VMs and app platforms have one per service).
   * @default - the platform's workload security group, from its SSM parameter
   */
  readonly workloadSecurityGroup?: ec2.ISecurityGroup;
}

/**
 * What one service owns, in its own stack so it deploys with the service: its database (RDS in the
 * isolated subnets admitting the workloads' security group, or DynamoDB), its CQRS read table, its
 * event store forwarding to the broker, and its part in orchestrated sagas; all under one data key.
 * Shared values (VPC, subnets, topics, sagas) come from SSM parameters. `grantOwner` gives the
 * service's role, and only it, access to all of it; `env` tells the service where it is.
 */
export class ServiceData extends Construct {
  readonly env: Readonly<Record<string, string>>;
  readonly encryptionKey?: kms.Key;
  readonly database?: ServiceDatabase;
  readonly readModel?: ServiceDatabase;
  readonly eventStore?: EventStore;
  private readonly grants: ((role: iam.IRole) => void)[] = [];

  constructor(scope: Construct, id: string, props: ServiceDataProps) {
    super(scope, id);
    const { plan, service } = props;
    const read = (parameterName: string) => readParameter(this, parameterName);
    const removalPolicy = plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY;
    const deletionProtection = plan.protection.deletionProtection;
    const env: Record<string, string> = {};

    if (service.database || service.readModel || service.eventStore) {
      this.encryptionKey = new kms.Key(this, "Key", { description: `Encrypts the data of ${service.name}`, enableKeyRotation: true, removalPolicy });
    }
    const encryptionKey = this.encryptionKey!;

    const database = service.database;
    if (database) {
      const relational = database.port > 0;
      const vpc = relational
        ? ec2.Vpc.fromVpcAttributes(this, "Vpc", {
            vpcId: read(sharedParameters.vpcId(plan)),
            availabilityZones: [...plan.network.availabilityZones],
            isolatedSubnetIds: plan.network.availabilityZones.map((_, i) => read(sharedParameters.isolatedSubnetId(plan, i))),
          })
        : undefined;
      if (vpc) {
        Validations.of(vpc).acknowledge({
          id: "Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId",
          reason: "The database is only placed in the isolated subnets; their route tables are never read",
        });
      }
      const workloads = relational
        ? (props.workloadSecurityGroup ?? ec2.SecurityGroup.fromSecurityGroupId(this, "Workloads", read(sharedParameters.workloadSecurityGroupId(plan)), { mutable: false }))
        : undefined;
      this.database = new ServiceDatabase(this, "Database", {
        engine: database.engine,
        ...(vpc ? { vpc } : {}),
        ...(workloads ? { allowFrom: [workloads] } : {}),
        instanceClass: database.instanceClass,
        ...(database.engineVersion ? { engineVersion: database.engineVersion } : {}),
        storageGiB: database.storageGiB,
        multiAz: database.multiAz,
        backupRetentionDays: database.backupRetentionDays,
        databaseName: database.databaseName,
        identifier: database.identifier,
        serviceUser: database.serviceUser,
        ...(database.partitionKey ? { partitionKey: database.partitionKey } : {}),
        ...(database.sortKey ? { sortKey: database.sortKey } : {}),
        encryptionKey,
        removalPolicy,
        deletionProtection,
      });
      const instance = this.database.instance?.node.defaultChild;
      if (instance && !database.multiAz) {
        const singleZone = `The ${plan.environment} landing zone runs its databases in one zone to keep their cost low, restoring from backups after a zone failure; prod runs them Multi-AZ.`;
        Validations.of(instance).acknowledge({ id: "AwsSolutions::AwsSolutions-RDS3", reason: singleZone }, { id: "NIST.800.53.R5::NIST.800.53.R5-RDSMultiAZSupport", reason: singleZone });
      }
      if (instance && !deletionProtection) {
        const deletable = `The ${plan.environment} landing zone is not deletion-protected (plan.protection), so its stacks delete cleanly with their test data; prod protects every database.`;
        Validations.of(instance).acknowledge(
          { id: "AwsSolutions::AwsSolutions-RDS10", reason: deletable },
          { id: "NIST.800.53.R5::NIST.800.53.R5-RDSInstanceDeletionProtectionEnabled", reason: deletable },
        );
      }
      Object.assign(env, this.database.environment());
      const owned = this.database;
      this.grants.push((role) => owned.grantOwner(role));
    }

    if (service.readModel) {
      this.readModel = new ServiceDatabase(this, "ReadModel", { engine: "document", identifier: service.readModel.table, encryptionKey, removalPolicy, deletionProtection });
      env[DATA_ENV.readModelTable] = this.readModel.table!.tableName;
      const owned = this.readModel;
      this.grants.push((role) => owned.grantOwner(role));
    }

    if (service.eventStore) {
      const store = service.eventStore;
      this.eventStore = new EventStore(this, "EventStore", {
        tableName: store.name,
        layout: store,
        ...(store.forwards.length > 0 ? { forwarding: forwardingOf(plan, service, read) } : {}),
        encryptionKey,
        removalPolicy,
        deletionProtection,
      });
      env[DATA_ENV.eventStore] = this.eventStore.table.tableName;
      const owned = this.eventStore;
      this.grants.push((role) => owned.grantAppend(role));
    }

    for (const saga of plan.sagas.filter((s) => s.mode === "orchestration" && s.commandQueues.some((q) => q.service === service.name))) {
      const stateMachineArn = read(sharedParameters.sagaStateMachineArn(plan, saga.name));
      const arns = { stateMachineArn, queueArn: read(sharedParameters.sagaQueueArn(plan, saga.name, service.name)), encryptionKeyArn: read(sharedParameters.sagaKeyArn(plan)) };
      env[sagaEnvName(saga.name, "COMMAND_QUEUE_URL")] = read(sharedParameters.sagaQueueUrl(plan, saga.name, service.name));
      this.grants.push((role) => grantSagaParticipant(role, arns));
      if (saga.initiator === service.name) {
        env[sagaEnvName(saga.name, "STATE_MACHINE_ARN")] = stateMachineArn;
        this.grants.push((role) => grantSagaStart(role, stateMachineArn));
      }
    }
    this.env = env;
  }

  /** Grants the service's role everything the service owns, and nothing of any other service. */
  grantOwner(role: iam.IRole): void {
    for (const grant of this.grants) grant(role);
  }
}

function forwardingOf(plan: LandingZonePlan, service: ServicePlan, read: (name: string) => string): EventStoreForwarding {
  const events = service.eventStore!.forwards;
  if (plan.broker?.implementation === "eventbridge") {
    return { kind: "eventbridge", service: service.name, eventBusArn: read(sharedParameters.eventBusArn(plan)), source: eventSource(plan.name, service.name), events };
  }
  return {
    kind: "sns",
    service: service.name,
    topicArns: Object.fromEntries(events.map((event) => [event, read(sharedParameters.topicArn(plan, event))])),
    encryptionKeyArn: read(sharedParameters.brokerKeyArn(plan)),
  };
}
