import { describe, expect, it } from "vitest";
import { KUBE_PROMETHEUS_STACK_CHART, MONITORING_NAMESPACE, monitoringAddOn } from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { allStrings, checkAddOn } from "./addon-helpers.js";

const prod = planLandingZone({ name: "shop", cloud: "kubernetes", environment: "prod" });
const dev = planLandingZone({ name: "shop", cloud: "kubernetes", monitoring: { alarms: false } });

function values(plan: typeof prod, options?: Parameters<typeof monitoringAddOn>[1]): Record<string, any> {
  return monitoringAddOn(plan, options).helmReleases[0]!.values as Record<string, any>;
}

describe("monitoringAddOn", () => {
  it("installs the pinned kube-prometheus-stack in its namespace", () => {
    const addOn = monitoringAddOn(prod);
    checkAddOn(addOn);
    expect(addOn.namespace).toBe(MONITORING_NAMESPACE);
    expect(addOn.helmReleases).toEqual([
      expect.objectContaining({
        chart: "kube-prometheus-stack",
        repository: "https://prometheus-community.github.io/helm-charts",
        version: KUBE_PROMETHEUS_STACK_CHART.version,
        namespace: MONITORING_NAMESPACE,
        createNamespace: true,
      }),
    ]);
  });

  it("enables Grafana and Alertmanager as spec.monitoring asks", () => {
    expect(values(prod).grafana.enabled).toBe(true);
    expect(values(prod).alertmanager.enabled).toBe(true);
    expect(values(dev).alertmanager.enabled).toBe(false);
  });

  it("scrapes every ServiceMonitor and PodMonitor, with persistent storage and environment-sized retention", () => {
    const spec = values(prod).prometheus.prometheusSpec;
    expect(spec.serviceMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(spec.podMonitorSelectorNilUsesHelmValues).toBe(false);
    expect(spec.retention).toBe("30d");
    expect(spec.replicas).toBe(2);
    expect(spec.storageSpec.volumeClaimTemplate.spec.resources.requests.storage).toBe("100Gi");
    expect(spec.resources.limits.memory).toBeDefined();
    expect(values(dev).prometheus.prometheusSpec.retention).toBe("7d");
  });

  it("never ships the chart's default Grafana password; an existing Secret is used by reference", () => {
    expect(values(prod).grafana.adminPassword).toBeNull();
    expect(allStrings(values(prod))).not.toContain("prom-operator");
    expect(values(prod, { grafanaAdminSecretName: "grafana-admin" }).grafana.admin).toEqual({
      existingSecret: "grafana-admin",
      userKey: "admin-user",
      passwordKey: "admin-password",
    });
    expect(() => monitoringAddOn(prod, { grafanaAdminSecretName: "Grafana_Admin" })).toThrow(/grafanaAdminSecretName: "Grafana_Admin" is not a valid Kubernetes name/);
  });
});
