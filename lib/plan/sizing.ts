import type { Cloud, Environment } from "../spec/types.js";

/**
 * Machine types and counts per cloud and environment. dev is small and disposable; prod is
 * multi-zone and sized for steady load. Cost notes: the EKS/GKE/AKS control plane, NAT gateways,
 * OpenSearch and ElastiCache are billed hourly even when idle.
 */
export interface Sizing {
  readonly clusterNode: { readonly type: string; readonly min: number; readonly desired: number; readonly max: number; readonly diskGiB: number };
  readonly vm: { readonly type: string; readonly rootVolumeGiB: number };
  readonly paas: { readonly type: string };
  readonly redis: { readonly nodeType: string; readonly memoryGiB: number; readonly replicas: number };
  readonly search: { readonly type: string; readonly count: number; readonly masters: number; readonly masterType: string; readonly volumeGiB: number };
  readonly database: { readonly small: string; readonly medium: string; readonly large: string };
  readonly kafka: { readonly type: string; readonly volumeGiB: number };
  readonly logstashReplicas: number;
}

export const SIZING: Readonly<Record<Cloud, Readonly<Record<Environment, Sizing>>>> = {
  aws: {
    dev: {
      clusterNode: { type: "m6i.large", min: 2, desired: 2, max: 4, diskGiB: 50 },
      vm: { type: "t3.small", rootVolumeGiB: 20 },
      paas: { type: "t3.small" },
      redis: { nodeType: "cache.t4g.micro", memoryGiB: 0.5, replicas: 0 },
      search: { type: "t3.medium.search", count: 1, masters: 0, masterType: "m6g.large.search", volumeGiB: 20 },
      database: { small: "t4g.micro", medium: "t4g.medium", large: "r7g.large" },
      kafka: { type: "kafka.t3.small", volumeGiB: 20 },
      logstashReplicas: 1,
    },
    prod: {
      clusterNode: { type: "m6i.xlarge", min: 3, desired: 3, max: 12, diskGiB: 100 },
      vm: { type: "m6i.large", rootVolumeGiB: 30 },
      paas: { type: "m6i.large" },
      redis: { nodeType: "cache.r7g.large", memoryGiB: 13, replicas: 2 },
      search: { type: "r6g.large.search", count: 3, masters: 3, masterType: "m6g.large.search", volumeGiB: 100 },
      database: { small: "t4g.medium", medium: "r7g.large", large: "r7g.2xlarge" },
      kafka: { type: "kafka.m7g.large", volumeGiB: 500 },
      logstashReplicas: 2,
    },
  },
  gcp: {
    dev: {
      clusterNode: { type: "e2-standard-4", min: 1, desired: 1, max: 3, diskGiB: 50 },
      vm: { type: "e2-small", rootVolumeGiB: 20 },
      paas: { type: "F2" },
      redis: { nodeType: "BASIC", memoryGiB: 1, replicas: 0 },
      search: { type: "e2-standard-2", count: 1, masters: 0, masterType: "e2-standard-2", volumeGiB: 20 },
      database: { small: "db-custom-1-3840", medium: "db-custom-2-7680", large: "db-custom-8-30720" },
      kafka: { type: "e2-standard-2", volumeGiB: 20 },
      logstashReplicas: 1,
    },
    prod: {
      clusterNode: { type: "e2-standard-8", min: 1, desired: 2, max: 6, diskGiB: 100 },
      vm: { type: "e2-standard-2", rootVolumeGiB: 30 },
      paas: { type: "F4" },
      redis: { nodeType: "STANDARD_HA", memoryGiB: 5, replicas: 1 },
      search: { type: "e2-standard-4", count: 3, masters: 0, masterType: "e2-standard-2", volumeGiB: 100 },
      database: { small: "db-custom-2-7680", medium: "db-custom-4-15360", large: "db-custom-16-61440" },
      kafka: { type: "e2-standard-4", volumeGiB: 500 },
      logstashReplicas: 2,
    },
  },
  azure: {
    dev: {
      clusterNode: { type: "Standard_D4s_v5", min: 2, desired: 2, max: 4, diskGiB: 64 },
      vm: { type: "Standard_B2s", rootVolumeGiB: 30 },
      paas: { type: "P0v3" },
      redis: { nodeType: "Standard_C0", memoryGiB: 0.25, replicas: 1 },
      search: { type: "Standard_D2s_v5", count: 1, masters: 0, masterType: "Standard_D2s_v5", volumeGiB: 32 },
      database: { small: "Standard_B1ms", medium: "Standard_D2ds_v5", large: "Standard_D8ds_v5" },
      kafka: { type: "Standard", volumeGiB: 32 },
      logstashReplicas: 1,
    },
    prod: {
      clusterNode: { type: "Standard_D8s_v5", min: 3, desired: 3, max: 12, diskGiB: 128 },
      vm: { type: "Standard_D2s_v5", rootVolumeGiB: 64 },
      paas: { type: "P1v3" },
      redis: { nodeType: "Premium_P1", memoryGiB: 6, replicas: 1 },
      search: { type: "Standard_D4s_v5", count: 3, masters: 0, masterType: "Standard_D2s_v5", volumeGiB: 128 },
      database: { small: "Standard_D2ds_v5", medium: "Standard_D4ds_v5", large: "Standard_D16ds_v5" },
      kafka: { type: "Premium", volumeGiB: 512 },
      logstashReplicas: 2,
    },
  },
  kubernetes: {
    dev: {
      clusterNode: { type: "existing", min: 0, desired: 0, max: 0, diskGiB: 0 },
      vm: { type: "n/a", rootVolumeGiB: 0 },
      paas: { type: "n/a" },
      redis: { nodeType: "redis:7.4", memoryGiB: 1, replicas: 0 },
      search: { type: "elasticsearch", count: 1, masters: 0, masterType: "elasticsearch", volumeGiB: 20 },
      database: { small: "1-instance", medium: "1-instance", large: "1-instance" },
      kafka: { type: "strimzi", volumeGiB: 20 },
      logstashReplicas: 1,
    },
    prod: {
      clusterNode: { type: "existing", min: 0, desired: 0, max: 0, diskGiB: 0 },
      vm: { type: "n/a", rootVolumeGiB: 0 },
      paas: { type: "n/a" },
      redis: { nodeType: "redis:7.4", memoryGiB: 4, replicas: 2 },
      search: { type: "elasticsearch", count: 3, masters: 0, masterType: "elasticsearch", volumeGiB: 100 },
      database: { small: "3-instances", medium: "3-instances", large: "3-instances" },
      kafka: { type: "strimzi", volumeGiB: 200 },
      logstashReplicas: 2,
    },
  },
};

/** Versions pinned once for every engine. */
export const VERSIONS = {
  kubernetes: "1.34",
  istio: "1.27.3",
  redis: "7.1",
  opensearch: "2.19",
  elasticsearch: "8.19.6",
  kafka: "3.8.x",
  postgres: "16.10",
  mysql: "8.0.41",
  /** AWS Distro for OpenTelemetry collector (awsxray exporter), beside services on VMs and Beanstalk. */
  adotCollector: "v0.49.0",
  /** OpenTelemetry collector-contrib (googlecloud exporter), beside services on GCP VMs; the collector ADOT v0.49.0 builds on. */
  otelCollectorContrib: "0.156.0",
  /** The MySQL-compatible server of existing clusters (mariadb-operator runs MariaDB, not Oracle MySQL). */
  mariadb: "11.8.2",
  /** trust-manager (jetstack chart), publishing the data stores' CA certificates to their clients on existing clusters. */
  trustManager: "0.24.0",
  elasticBeanstalkDocker: "64bit Amazon Linux 2023 v4.7.2 running Docker",
} as const;
