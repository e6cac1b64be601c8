import { describe, expect, it } from "vitest";
import { CERT_MANAGER_ADD_ON, CERT_MANAGER_CHART, clusterCertManagerAddOn, clusterDataTrustAddOn } from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import type { LandingZoneInput } from "../../lib/spec/schema.js";
import { checkAddOn } from "./addon-helpers.js";

const base = { name: "shop", cloud: "kubernetes", environment: "dev", gateway: { auth: "none" }, mesh: { kind: "none" }, auth: { sessions: "none" } } satisfies LandingZoneInput;
const plan = (extra: Partial<LandingZoneInput>) => planLandingZone({ ...base, services: [{ name: "orders" }], ...extra } as LandingZoneInput, { engine: "pulumi" });
const owning = (engine: "postgres" | "mysql" | "key-value" | "document") => ({ services: [{ name: "orders", database: { engine } }] });

describe("clusterCertManagerAddOn (one cert-manager for everything issuing through it)", () => {
  it.each(["postgres", "mysql", "key-value", "document"] as const)("installs the pinned release for a %s owner (trust-manager's webhook certificate, the data CA)", (engine) => {
    const addOn = clusterCertManagerAddOn(plan(owning(engine)))!;
    checkAddOn(addOn);
    expect(addOn.name).toBe(CERT_MANAGER_ADD_ON);
    expect(addOn.helmReleases).toEqual([expect.objectContaining({ chart: "cert-manager", version: CERT_MANAGER_CHART.version, namespace: "cert-manager", values: expect.objectContaining({ crds: { enabled: true, keep: true } }) })]);
    expect(addOn.manifests).toEqual([]);
  });

  it("installs it for the session store alone", () => {
    expect(clusterCertManagerAddOn(plan({ auth: { sessions: "redis" } }))?.helmReleases.map((r) => r.chart)).toEqual(["cert-manager"]);
  });

  it("is undefined when nothing needs it, or the cluster's own is reused", () => {
    expect(clusterCertManagerAddOn(plan({}))).toBeUndefined();
    // A postgres owner with the cluster's own trust-manager: no webhook certificate to issue.
    expect(clusterCertManagerAddOn(plan({ ...owning("postgres"), kubernetes: { trustManager: { install: false } } }))).toBeUndefined();
    expect(clusterCertManagerAddOn(plan({ ...owning("key-value"), auth: { sessions: "redis" }, kubernetes: { certManager: { install: false } } }))).toBeUndefined();
  });

  it("is what trust-manager waits for", () => {
    expect(clusterDataTrustAddOn(plan(owning("postgres")))?.dependsOn).toEqual([CERT_MANAGER_ADD_ON, "databases"]);
  });
});
