import { NetworkPolicy } from "kubernetes-models/networking.k8s.io/v1/NetworkPolicy";
import type { LandingZonePlan, ServicePlan } from "../plan/types.js";
import { assertKubernetesName, labelsFor, MANAGED_BY } from "./labels.js";
import { loadBalancerPeerAuthentication } from "./load-balancer-access.js";
import { workloadNamespace } from "./namespace.js";
import { validatedManifest } from "./render.js";
import type { ManifestObject } from "./types.js";
import { SERVICE_PORT, WORKLOAD_PORT_NAME } from "./workload.js";

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
 * The pods' side of a bound service: with a mesh, its container port takes the ALB's plaintext
 * (PERMISSIVE), since the ALB has no mesh certificate. Which addresses reach that port is decided once
 * for the namespace by {@link gatewayLoadBalancerAccess}.
 */
export function targetGroupAccess(plan: LandingZonePlan, service: ServicePlan): ManifestObject[] {
  return loadBalancerPeerAuthentication(plan, service);
}

/** Name of the NetworkPolicy of {@link gatewayLoadBalancerAccess}. */
export const GATEWAY_LOAD_BALANCER_POLICY = "allow-gateway-load-balancers";

/**
 * The one NetworkPolicy letting the gateway's internal ALBs send traffic and health checks straight
 * to the workload pods, on their `http` container port only, from the subnets the ALBs sit in
 * (`plan.gateway.loadBalancerSubnets`). On EKS those are the public subnets, which hold no pod (the
 * VPC CNI gives pods private-subnet addresses), so no pod reaches a service's plaintext port.
 * It belongs to the platform, and the engines make the ALBs depend on it: applied before the balancers
 * move, it admits their new subnets while the services' own policies (from earlier versions, which
 * admitted the private subnets) still stand, so no health check fails during an upgrade.
 */
export function gatewayLoadBalancerAccess(plan: LandingZonePlan): ManifestObject[] {
  if (plan.cloud !== "aws" || plan.tier !== "caas") {
    throw new Error(`gatewayLoadBalancerAccess: plan is ${plan.cloud}/${plan.tier}, but only the AWS gateway's load balancers target pods (EKS, aws/caas). Fix: call it only for aws caas plans`);
  }
  return [
    validatedManifest(
      new NetworkPolicy({
        metadata: { name: GATEWAY_LOAD_BALANCER_POLICY, namespace: workloadNamespace(plan), labels: { "app.kubernetes.io/part-of": plan.name, "app.kubernetes.io/managed-by": MANAGED_BY } },
        spec: {
          podSelector: {},
          policyTypes: ["Ingress"],
          ingress: [{ from: plan.network.subnets[plan.gateway.loadBalancerSubnets].map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: WORKLOAD_PORT_NAME }] }],
        },
      }),
    ),
  ];
}
