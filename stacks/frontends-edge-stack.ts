import { RemovalPolicy } from "aws-cdk-lib";
import type { Construct } from "constructs";
import { EdgeWebAcl } from "../lib/cdk/edge-web-acl.js";
import { PlanStack, type PlanStackProps } from "./plan-stack.js";

export type FrontendsEdgeStackProps = PlanStackProps;

/**
 * `<name>-<env>-frontends-edge`, in us-east-1: the CDN's web ACL, which CloudFront reads only from
 * there. The frontends stack in the landing zone's region references it (`crossRegionReferences`).
 */
export class FrontendsEdgeStack extends PlanStack {
  readonly webAcl: EdgeWebAcl;

  constructor(scope: Construct, id: string, props: FrontendsEdgeStackProps) {
    super(scope, id, { ...props, crossRegionReferences: true });
    const frontends = props.plan.frontends;
    if (!frontends?.waf) throw new Error(`FrontendsEdgeStack: the plan has no frontends with a web ACL. Fix: leave this stack out`);
    if (this.region !== frontends.edgeRegion) throw new Error(`FrontendsEdgeStack: env.region is ${this.region}. Fix: create it with env.region ${frontends.edgeRegion}`);
    // The zone's log key is in the landing zone's region: the ACL's logs get a key of their own here.
    this.webAcl = new EdgeWebAcl(this, "WebAcl", { requestsPerMinute: frontends.wafRequestsPerMinute, removalPolicy: props.plan.protection.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY });
  }

  /** The edge stack's zones are not the landing zone's; nothing here is placed in a zone. */
  override get availabilityZones(): string[] {
    return [`${this.region}a`, `${this.region}b`];
  }
}
