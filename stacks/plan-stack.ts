import { type CfnElement, Stack, Tags, Validations, aws_kms as kms, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { ManagedRedis } from "../lib/cdk/managed-redis.js";
import { TemplateLimitsSynthesizer } from "../lib/cdk/template-limits.js";
import type { LandingZonePlan } from "../lib/plan/types.js";
import { readParameter, sharedParameters } from "./shared-parameters.js";

export interface PlanStackProps extends StackProps {
  /** The landing-zone plan the stack is built from. */
  readonly plan: LandingZonePlan;
  /**
   * Fail synthesis when the template imports a CloudFormation export (service stacks read SSM parameters).
   * @default false
   */
  readonly forbidImports?: boolean;
}

/**
 * A stack of a landing zone: tagged from the plan, with the plan's availability zones, and checked
 * against CloudFormation's template limits when synthesized (`TemplateLimitsSynthesizer`).
 */
export abstract class PlanStack extends Stack {
  readonly plan: LandingZonePlan;

  constructor(scope: Construct, id: string, props: PlanStackProps) {
    super(scope, id, { ...props, synthesizer: props.synthesizer ?? new TemplateLimitsSynthesizer({ forbidImports: props.forbidImports ?? false }) });
    this.plan = props.plan;
    for (const [key, value] of Object.entries(props.plan.tags)) Tags.of(this).add(key, value);
  }

  private zoneLogKey?: kms.IKey;

  /**
   * The zone's key for CloudWatch log groups, read from the network stack's parameter at deploy time
   * (every stack deploys after the network stack).
   */
  get logKey(): kms.IKey {
    if (this.region !== this.plan.region) throw new Error(`${this.stackName}: the zone's log key is in ${this.plan.region}, not ${this.region}. Fix: create a key in this stack for its log groups`);
    this.zoneLogKey ??= kms.Key.fromKeyArn(this, "ZoneLogKey", readParameter(this, sharedParameters.logKeyArn(this.plan)));
    return this.zoneLogKey;
  }

  private readonly logicalIds = new WeakMap<CfnElement, string>();

  /**
   * CDK's own scheme, computed once per element: it hashes the element's path, which never changes,
   * yet CDK recomputes it on every reference it resolves (prepare, template, tree.json).
   */
  protected override allocateLogicalId(element: CfnElement): string {
    let logicalId = this.logicalIds.get(element);
    if (logicalId === undefined) {
      logicalId = super.allocateLogicalId(element);
      this.logicalIds.set(element, logicalId);
    }
    return logicalId;
  }

  /** The plan's zones, so synthesis never looks them up (an offline lookup yields `dummy1a`). */
  override get availabilityZones(): string[] {
    return [...this.plan.network.availabilityZones];
  }
}

/** Acknowledges AWS Solutions' AEC4 (Multi-AZ) on a Redis group the plan keeps in one zone: dev, or a one-zone network. */
export function acknowledgeSingleZoneRedis(redis: ManagedRedis, plan: LandingZonePlan): void {
  Validations.of(redis.replicationGroup).acknowledge({
    id: "AwsSolutions::AwsSolutions-AEC4",
    reason:
      plan.environment === "prod"
        ? `The spec's network has ${plan.network.availabilityZones.length} zone, so there is no second zone to fail over to; the replica still takes over from a failed primary.`
        : `The ${plan.environment} landing zone keeps this Redis in one zone to halve its cost; it holds only data its clients rebuild, and prod spreads it over zones.`,
  });
}
