import { Stack, Tags, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { LandingZonePlan } from "../lib/plan/types.js";

export interface PlanStackProps extends StackProps {
  /** The landing-zone plan the stack is built from. */
  readonly plan: LandingZonePlan;
}

/** A stack of a landing zone: tagged from the plan, with the plan's availability zones. */
export abstract class PlanStack extends Stack {
  readonly plan: LandingZonePlan;

  constructor(scope: Construct, id: string, props: PlanStackProps) {
    super(scope, id, props);
    this.plan = props.plan;
    for (const [key, value] of Object.entries(props.plan.tags)) Tags.of(this).add(key, value);
  }

  /** The plan's zones, so synthesis never looks them up (an offline lookup yields `dummy1a`). */
  override get availabilityZones(): string[] {
    return [...this.plan.network.availabilityZones];
  }
}
