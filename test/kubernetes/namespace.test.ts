import { describe, expect, it } from "vitest";
import { INGRESS_NAMESPACE_LABEL, namespaceManifests, workloadNamespace } from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { byKind, noMeshPlan, prodPlan, revalidate, single } from "./fixtures.js";

describe("namespaceManifests", () => {
  it("returns a valid Namespace and two NetworkPolicies in the plan's cluster namespace", () => {
    const objects = namespaceManifests(prodPlan);
    objects.forEach(revalidate);
    expect(objects.map((o) => o.kind)).toEqual(["Namespace", "NetworkPolicy", "NetworkPolicy"]);
    expect(single(objects, "Namespace").metadata.name).toBe(prodPlan.cluster!.namespace);
    for (const policy of byKind(objects, "NetworkPolicy")) expect(policy.metadata.namespace).toBe(prodPlan.cluster!.namespace);
  });

  it("enables sidecar injection with a mesh and enforces the restricted Pod Security standard without one", () => {
    const meshLabels = single(namespaceManifests(prodPlan), "Namespace").metadata.labels;
    expect(meshLabels["istio-injection"]).toBe("enabled");
    expect(meshLabels["pod-security.kubernetes.io/enforce"]).toBeUndefined();
    const plainLabels = single(namespaceManifests(noMeshPlan), "Namespace").metadata.labels;
    expect(plainLabels["istio-injection"]).toBeUndefined();
    expect(plainLabels["pod-security.kubernetes.io/enforce"]).toBe("restricted");
  });

  it("denies all ingress by default and allows only the same namespace and ingress-labelled namespaces", () => {
    const [, deny, allow] = namespaceManifests(prodPlan) as Record<string, any>[];
    expect(deny!.spec).toEqual({ podSelector: {}, policyTypes: ["Ingress"] });
    expect(allow!.spec.ingress).toEqual([{ from: [{ podSelector: {} }, { namespaceSelector: { matchLabels: { [INGRESS_NAMESPACE_LABEL]: "true" } } }] }]);
    expect(INGRESS_NAMESPACE_LABEL).toBe("msa-landing-zone/ingress");
  });

  it("falls back to the landing-zone name when the plan has no cluster", () => {
    const iaas = planLandingZone({ name: "vmzone", tier: "iaas", mesh: { kind: "none" } });
    expect(iaas.cluster).toBeUndefined();
    expect(workloadNamespace(iaas)).toBe("vmzone");
  });
});
