import { describe, expect, it } from "vitest";
import { GATEWAY_LOAD_BALANCER_POLICY, gatewayLoadBalancerAccess, serviceWorkload, targetGroupAccess, targetGroupBinding } from "../../lib/kubernetes/index.js";
import { parseCidr, planLandingZone } from "../../lib/plan/index.js";
import { check, one } from "./addon-helpers.js";

const plan = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", services: [{ name: "orders" }, { name: "ledger", expose: false }] });
const orders = plan.services.find((s) => s.name === "orders")!;
/** Whether two IPv4 ranges share an address. */
function overlaps(a: string, b: string): boolean {
  const [x, y] = [parseCidr(a), parseCidr(b)];
  const prefix = Math.min(x.prefix, y.prefix);
  const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
  return ((x.base & mask) >>> 0) === ((y.base & mask) >>> 0);
}
const arn = "arn:aws:elasticloadbalancing:ap-northeast-2:123456789012:targetgroup/shop-orders/0123456789abcdef";

describe("targetGroupBinding", () => {
  it("binds the service's Service port to the engine's target group with ip targets", () => {
    const manifest = targetGroupBinding(plan, orders, arn);
    check(manifest);
    const binding = manifest as Record<string, any>;
    expect(binding.apiVersion).toBe("elbv2.k8s.aws/v1beta1");
    expect(binding.kind).toBe("TargetGroupBinding");
    expect(binding.spec).toEqual({ serviceRef: { name: "orders", port: 80 }, targetGroupARN: arn, targetType: "ip" });
    const service = one(serviceWorkload(plan, orders), "Service");
    expect(binding.metadata.namespace).toBe(service.metadata.namespace);
    expect(binding.spec.serviceRef.name).toBe(service.metadata.name);
    expect(service.spec.ports.map((p: any) => p.port)).toContain(binding.spec.serviceRef.port);
  });

  it("accepts an unresolved CDK token for the ARN", () => {
    const token = "${Token[TOKEN.123]}";
    expect((targetGroupBinding(plan, orders, token) as Record<string, any>).spec.targetGroupARN).toBe(token);
  });

  it("rejects bad input with the prop, the value and the fix", () => {
    expect(() => targetGroupBinding(plan, orders, "shop-orders")).toThrow(/targetGroupArn: "shop-orders" is not a target group ARN\. Fix:/);
    const ledger = plan.services.find((s) => s.name === "ledger")!;
    expect(() => targetGroupBinding(plan, ledger, arn)).toThrow(/services\[ledger\]\.expose: false.*Fix:/);
    const gcp = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", services: [{ name: "orders" }] });
    expect(() => targetGroupBinding(gcp, gcp.services[0]!, arn)).toThrow(/plan\.cloud is "gcp".*Fix:/);
  });

  it("keeps the STRICT mesh on a bound service's pods but for its port, which takes the ALB's plaintext", () => {
    const [peerAuthentication] = targetGroupAccess(plan, orders) as Record<string, any>[];
    expect(targetGroupAccess(plan, orders).map((m) => m.kind)).toEqual(["PeerAuthentication"]);
    expect(peerAuthentication!.spec).toMatchObject({ mtls: { mode: "STRICT" }, portLevelMtls: { [String(orders.port)]: { mode: "PERMISSIVE" } } });
    const unmeshed = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", mesh: { kind: "none" }, services: [{ name: "orders" }] });
    expect(targetGroupAccess(unmeshed, unmeshed.services[0]!)).toEqual([]);
  });
});

describe("gatewayLoadBalancerAccess", () => {
  it("admits the ALBs from the public subnets on the workloads' http port, one policy for the namespace, and no pod", () => {
    expect(plan.tier).toBe("caas");
    expect(plan.gateway.loadBalancerSubnets).toBe("public");
    const objects = gatewayLoadBalancerAccess(plan);
    objects.forEach(check);
    const [networkPolicy] = objects as Record<string, any>[];
    expect(networkPolicy!.kind).toBe("NetworkPolicy");
    expect(networkPolicy!.metadata).toMatchObject({ name: GATEWAY_LOAD_BALANCER_POLICY, namespace: one(serviceWorkload(plan, orders), "Deployment").metadata.namespace });
    expect(networkPolicy!.spec.podSelector).toEqual({});
    expect(networkPolicy!.spec.ingress).toEqual([{ from: plan.network.subnets.public.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: "http" }] }]);
    // The port it names is every workload's container port.
    const container = one(serviceWorkload(plan, orders), "Deployment").spec.template.spec.containers[0];
    expect(container.ports).toContainEqual({ name: networkPolicy!.spec.ingress[0].ports[0].port, containerPort: orders.port, protocol: "TCP" });
    // The VPC CNI gives pods (and nodes) addresses in the private subnets: none of them may send plaintext to that port.
    const admitted = networkPolicy!.spec.ingress[0].from.map((peer: { ipBlock: { cidr: string } }) => peer.ipBlock.cidr);
    for (const podRange of plan.network.subnets.private) for (const cidr of admitted) expect(overlaps(cidr, podRange), `${cidr} overlaps pods' ${podRange}`).toBe(false);
  });

  it("exists only where the gateway's balancers target pods", () => {
    const vms = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", tier: "iaas", services: [{ name: "orders" }] });
    expect(() => gatewayLoadBalancerAccess(vms)).toThrow(/plan is aws\/iaas.*Fix: call it only for aws caas plans/);
  });
});
