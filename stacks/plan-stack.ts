import { Stack, Tags, type StackProps } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { TemplateLimitsSynthesizer } from "../lib/cdk/template-limits.js";
import type { LandingZonePlan } from "../lib/plan/types.js";

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

  /** The plan's zones, so synthesis never looks them up (an offline lookup yields `dummy1a`). */
  override get availabilityZones(): string[] {
    return [...this.plan.network.availabilityZones];
  }
}
