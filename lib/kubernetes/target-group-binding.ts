import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { assertKubernetesName, labelsFor } from "./labels.js";
import { loadBalancerAccess } from "./load-balancer-access.js";
import { workloadNamespace } from "./namespace.js";
import type { ManifestObject } from "./types.js";
import { SERVICE_PORT } from "./workload.js";

const TARGET_GROUP_ARN = /^arn:aws[a-z-]*:elasticloadbalancing:[a-z0-9-]+:\d{12}:targetgroup\/[A-Za-z0-9-]{1,32}\/[0-9a-f]{16}$/;

/**
 * An AWS Load Balancer Controller TargetGroupBinding (no kubernetes-models class: checked
 * structurally by the tests) registering the pod IPs behind the service's Service in an ALB target
 * group the engine created, so the load balancer stays owned by CDK/Pulumi and not by the controller.
 */
export function targetGroupBinding(plan: LandingZonePlan, service: ServicePlan, targetGroupArn: string): ManifestObject {
  if (plan.cloud !== "aws") {
    throw new Error(`targetGroupBinding: plan.cloud is "${plan.cloud}", but TargetGroupBindings exist only with the AWS Load Balancer Controller. Fix: call it only for aws plans`);
  }
  assertKubernetesName("targetGroupBinding service.name", service.name);
  if (!service.expose) {
    throw new Error(`targetGroupBinding services[${service.name}].expose: false, so no load balancer routes to it. Fix: set expose: true, or do not bind a target group`);
  }
  // A CDK token stands in for an ARN the engine creates in the same deployment.
  if (!TARGET_GROUP_ARN.test(targetGroupArn) && !targetGroupArn.includes("${Token[")) {
    throw new Error(
      `targetGroupBinding targetGroupArn: "${targetGroupArn}" is not a target group ARN. Fix: pass arn:aws:elasticloadbalancing:<region>:<account>:targetgroup/<name>/<id>`,
    );
  }
  return {
    apiVersion: "elbv2.k8s.aws/v1beta1",
    kind: "TargetGroupBinding",
    metadata: { name: service.name, namespace: workloadNamespace(plan), labels: labelsFor(plan, service.name) },
    spec: {
      serviceRef: { name: service.name, port: SERVICE_PORT },
      targetGroupARN: targetGroupArn,
      targetType: "ip",
    },
  };
}

/**
 * What the gateway's load balancer needs to reach a bound service: the internal ALB sends traffic
 * and health checks straight to the pod IPs, so the pods admit the ranges of the subnets it sits in
 * (`plan.gateway.loadBalancerSubnets`) on the container port and, with a mesh, take plaintext there,
 * since the ALB has no mesh certificate. On EKS those are the public subnets, which hold no pod, so
 * no other pod gets that plaintext door.
 */
export function targetGroupAccess(plan: LandingZonePlan, service: ServicePlan): ManifestObject[] {
  return loadBalancerAccess(plan, service, plan.network.subnets[plan.gateway.loadBalancerSubnets]);
}
