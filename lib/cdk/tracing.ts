import { Validations, aws_iam as iam } from "aws-cdk-lib";
import { Construct } from "constructs";
import { collectorServiceAccount, defaultExporter, tracingAddOn, type TraceExporter } from "../kubernetes/tracing.js";
import type { LandingZonePlan } from "../plan/types.js";
import { XRAY_WRITE_ACTIONS } from "../plan/tracing.js";
import type { IKubernetesTarget, WorkloadIdentity } from "./kubernetes-target.js";

export interface TracingProps {
  /** The cluster the collector runs on (`KubernetesPlatform` or `KubernetesPlatform.fromPlatformAttributes` with `kubectlRoleArn`). */
  readonly target: IKubernetesTarget;
  /** The landing-zone plan; `plan.tracing` names the backend and the collector's endpoint. */
  readonly plan: LandingZonePlan;
}

/**
 * Distributed tracing: the OpenTelemetry collector every service exports OTLP to, sending traces to
 * Zipkin or Jaeger (deployed beside it) or to AWS X-Ray (`tracing.backend: xray` or `cloud`), with
 * an EKS Pod Identity role that may only write to X-Ray.
 *
 * Cost: X-Ray bills traces recorded and retrieved; Zipkin and Jaeger run on the cluster's nodes.
 *
 * @example
 * new Tracing(stack, "Tracing", { target: platform, plan });
 */
export class Tracing extends Construct {
  readonly exporter: TraceExporter;
  /** The collector's identity, when the exporter writes to a cloud service. */
  readonly identity?: WorkloadIdentity;
  /** The applied add-on (collector release and backend manifests). */
  readonly addOn: Construct;

  constructor(scope: Construct, id: string, props: TracingProps) {
    super(scope, id);
    const { plan, target } = props;
    const addOn = tracingAddOn(plan);
    if (!addOn) throw new Error(`Tracing: plan.tracing is undefined. Fix: set tracing.backend in the spec, or leave Tracing out`);
    this.exporter = defaultExporter(plan);
    if (this.exporter !== "xray" && this.exporter !== "zipkin" && this.exporter !== "jaeger") {
      throw new Error(`Tracing: exporter "${this.exporter}" does not run on AWS. Fix: use tracing.backend xray, cloud, zipkin or jaeger`);
    }
    if (this.exporter === "xray") {
      // The chart creates the ServiceAccount; the association binds the role to its name first.
      const account = collectorServiceAccount(plan);
      this.identity = target.addWorkloadIdentity("CollectorIdentity", { ...account, createServiceAccount: false });
      this.identity.role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...XRAY_WRITE_ACTIONS], resources: ["*"] }));
      Validations.of(this.identity.role).acknowledge({
        id: "AwsSolutions::AwsSolutions-IAM5[Resource::*]",
        reason: "X-Ray actions have no resource-level permissions; the collector may only send traces and read sampling rules.",
      });
    }
    this.addOn = target.addAddOn("Collector", addOn);
    // Pod Identity gives credentials only to pods created after the association.
    if (this.identity) this.addOn.node.addDependency(this.identity.role.node.scope ?? this.identity.role);
  }
}
