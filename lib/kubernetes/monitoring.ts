import type { LandingZonePlan } from "../plan/types.js";
import { assertKubernetesName } from "./labels.js";
import type { AddOn } from "./types.js";

export interface MonitoringOptions {
  /**
   * Secret in the monitoring namespace with keys `admin-user` and `admin-password` for Grafana.
   * @default - Grafana generates a random admin password into its own Secret
   */
  readonly grafanaAdminSecretName?: string;
}

export const KUBE_PROMETHEUS_STACK_CHART = {
  chart: "kube-prometheus-stack",
  repository: "https://prometheus-community.github.io/helm-charts",
  version: "77.11.1",
} as const;
export const MONITORING_NAMESPACE = "monitoring";

/**
 * Prometheus, Grafana (when spec.monitoring.dashboards) and Alertmanager (when spec.monitoring.alarms)
 * through kube-prometheus-stack. Prometheus selects every ServiceMonitor and PodMonitor in the
 * cluster, not only the release's own, so add-ons and services are scraped without extra labels.
 */
export function monitoringAddOn(plan: LandingZonePlan, options: MonitoringOptions = {}): AddOn {
  const { dashboards, alarms } = plan.spec.monitoring;
  const prod = plan.environment === "prod";
  if (options.grafanaAdminSecretName !== undefined) assertKubernetesName("monitoringAddOn options.grafanaAdminSecretName", options.grafanaAdminSecretName);
  const replicas = prod ? 2 : 1;

  return {
    name: "monitoring",
    namespace: MONITORING_NAMESPACE,
    helmReleases: [
      {
        name: "kube-prometheus-stack",
        namespace: MONITORING_NAMESPACE,
        chart: KUBE_PROMETHEUS_STACK_CHART.chart,
        repository: KUBE_PROMETHEUS_STACK_CHART.repository,
        version: KUBE_PROMETHEUS_STACK_CHART.version,
        createNamespace: true,
        values: {
          prometheus: {
            prometheusSpec: {
              replicas,
              retention: prod ? "30d" : "7d",
              serviceMonitorSelectorNilUsesHelmValues: false,
              podMonitorSelectorNilUsesHelmValues: false,
              ruleSelectorNilUsesHelmValues: false,
              resources: { requests: { cpu: "500m", memory: "2Gi" }, limits: { memory: "4Gi" } },
              storageSpec: {
                volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: prod ? "100Gi" : "20Gi" } } } },
              },
            },
          },
          alertmanager: {
            enabled: alarms,
            alertmanagerSpec: {
              replicas,
              resources: { requests: { cpu: "50m", memory: "128Mi" }, limits: { memory: "256Mi" } },
              storage: { volumeClaimTemplate: { spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "5Gi" } } } } },
            },
          },
          grafana: {
            enabled: dashboards,
            // null drops the chart's well-known default password ("prom-operator").
            adminPassword: null,
            ...(options.grafanaAdminSecretName
              ? { admin: { existingSecret: options.grafanaAdminSecretName, userKey: "admin-user", passwordKey: "admin-password" } }
              : {}),
            resources: { requests: { cpu: "100m", memory: "256Mi" }, limits: { memory: "512Mi" } },
          },
        },
      },
    ],
    manifests: [],
    dependsOn: [],
  };
}
