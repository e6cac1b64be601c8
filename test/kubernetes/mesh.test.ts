import { describe, expect, it } from "vitest";
import { ISTIO_CHART_REPOSITORY, meshAddOn, servicePolicies, serviceWorkload } from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { noMeshPlan, prodPlan, revalidate, shopSpec, single } from "./fixtures.js";

const orders = prodPlan.services.find((s) => s.name === "orders")!;

describe("meshAddOn", () => {
  it("installs the istio base and istiod charts at the plan's version in istio-system", () => {
    const addOn = meshAddOn(prodPlan)!;
    expect(addOn.name).toBe("istio");
    expect(addOn.namespace).toBe("istio-system");
    expect(addOn.helmReleases.map((r) => r.chart)).toEqual(["base", "istiod"]);
    for (const release of addOn.helmReleases) {
      expect(release).toMatchObject({ repository: ISTIO_CHART_REPOSITORY, version: prodPlan.mesh!.version, namespace: "istio-system", createNamespace: true });
    }
    expect(ISTIO_CHART_REPOSITORY).toBe("https://istio-release.storage.googleapis.com/charts");
  });

  it("turns on mesh-wide mutual TLS with the plan's mode", () => {
    const manifests = meshAddOn(prodPlan)!.manifests;
    manifests.forEach(revalidate);
    const peer = single(manifests, "PeerAuthentication");
    expect(peer.metadata).toMatchObject({ name: "default", namespace: "istio-system" });
    expect(peer.spec.mtls.mode).toBe("STRICT");
    const permissive = planLandingZone({ ...shopSpec, mesh: { mtls: "PERMISSIVE" } });
    expect(single(meshAddOn(permissive)!.manifests, "PeerAuthentication").spec.mtls.mode).toBe("PERMISSIVE");
  });

  it("is absent when mesh.kind is none", () => {
    expect(noMeshPlan.mesh).toBeUndefined();
    expect(meshAddOn(noMeshPlan)).toBeUndefined();
    expect(servicePolicies(noMeshPlan, noMeshPlan.services[0]!)).toEqual([]);
  });
});

describe("servicePolicies", () => {
  const breaker = { consecutiveErrors: 7, ejectSeconds: 45, maxEjectionPercent: 30, maxConnections: 250, maxPendingRequests: 40 };
  const plan = planLandingZone({ ...shopSpec, mesh: { circuitBreaker: breaker, retries: { attempts: 2, perTryTimeoutSeconds: 1.5 }, timeoutSeconds: 8 } });
  const service = plan.services.find((s) => s.name === "orders")!;
  const policies = servicePolicies(plan, service);
  const host = `orders.${plan.cluster!.namespace}.svc.cluster.local`;

  it("returns a valid DestinationRule and VirtualService for the service's in-cluster host", () => {
    expect(policies.map((p) => p.kind)).toEqual(["DestinationRule", "VirtualService"]);
    policies.forEach(revalidate);
    expect(single(policies, "DestinationRule").spec.host).toBe(host);
    expect(single(policies, "VirtualService").spec.hosts).toEqual([host]);
  });

  it("sets outlier detection and the connection pool from the spec's circuit breaker, over mutual TLS", () => {
    const policy = single(policies, "DestinationRule").spec.trafficPolicy;
    expect(policy.outlierDetection).toMatchObject({ consecutive5xxErrors: 7, baseEjectionTime: "45s", maxEjectionPercent: 30 });
    expect(policy.connectionPool).toEqual({ tcp: { maxConnections: 250 }, http: { http1MaxPendingRequests: 40 } });
    expect(policy.tls).toEqual({ mode: "ISTIO_MUTUAL" });
  });

  it("sets retries and the timeout from the plan and routes to the Service port", () => {
    const route = single(policies, "VirtualService").spec.http[0];
    expect(route.retries).toMatchObject({ attempts: 2, perTryTimeout: "1.5s" });
    expect(route.timeout).toBe("8s");
    expect(route.route).toEqual([{ destination: { host, port: { number: single(serviceWorkload(plan, service, { secretName: "s" }), "Service").spec.ports[0].port } } }]);
  });

  it("uses the default circuit breaker when the spec gives none", () => {
    const rule = single(servicePolicies(prodPlan, orders), "DestinationRule");
    expect(rule.spec.trafficPolicy.outlierDetection).toMatchObject({
      consecutive5xxErrors: prodPlan.mesh!.circuitBreaker.consecutiveErrors,
      baseEjectionTime: `${prodPlan.mesh!.circuitBreaker.ejectSeconds}s`,
    });
  });
});
