import { describe, expect, it } from "vitest";
import { logBufferExposureManifests } from "../../lib/kubernetes/log-buffer-access.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { prodPlan, revalidate, shopSpec } from "./fixtures.js";

const exposure = { bufferName: "log-buffer", annotations: { "service.beta.kubernetes.io/azure-load-balancer-internal": "true" }, address: "10.1.0.60", sourceRanges: ["10.1.0.0/20"] };

describe("logBufferExposureManifests", () => {
  const objects = logBufferExposureManifests(prodPlan, exposure);

  it("puts only the buffer's primary behind a private load balancer at the reserved address, open to the hosts' ranges", () => {
    for (const object of objects) revalidate(object);
    const [service, policy] = objects as unknown as [Record<string, any>, Record<string, any>];
    expect(service["metadata"]).toMatchObject({ name: "log-buffer-internal", namespace: "logging", annotations: exposure.annotations });
    expect(service["spec"]).toMatchObject({
      type: "LoadBalancer",
      loadBalancerIP: "10.1.0.60",
      loadBalancerSourceRanges: ["10.1.0.0/20"],
      selector: { "app.kubernetes.io/name": "log-buffer", "statefulset.kubernetes.io/pod-name": "log-buffer-0" },
      ports: [{ port: 6379, targetPort: "redis", protocol: "TCP" }],
    });
    // The logging namespace denies all ingress; this lets exactly the hosts' ranges reach Redis.
    expect(policy["spec"]).toEqual({
      podSelector: { matchLabels: { "app.kubernetes.io/name": "log-buffer", "app.kubernetes.io/part-of": prodPlan.name } },
      policyTypes: ["Ingress"],
      ingress: [{ from: [{ ipBlock: { cidr: "10.1.0.0/20" } }], ports: [{ protocol: "TCP", port: 6379 }] }],
    });
  });

  it("refuses a plan without a buffer, no source range and a range that is no CIDR", () => {
    const unbuffered = planLandingZone({ ...shopSpec, logging: { stack: "elk", buffer: "none" } });
    expect(() => logBufferExposureManifests(unbuffered, exposure)).toThrow(/plan.logging.buffer is undefined. Fix: set logging.stack: elk and logging.buffer: redis/);
    expect(() => logBufferExposureManifests(prodPlan, { ...exposure, sourceRanges: [] })).toThrow(/sourceRanges: empty.*Fix: pass the CIDR/);
    expect(() => logBufferExposureManifests(prodPlan, { ...exposure, sourceRanges: ["10.1.0.0"] })).toThrow(/sourceRanges: "10.1.0.0" is not an IPv4 CIDR/);
  });
});
