/**
 * The Kubernetes objects of the baselines, written as plain objects (no kubernetes-models, no
 * validation): what a team hand-writing the landing zone would put in its templates. Values that
 * are deploy-time references come in as strings from the caller (CDK tokens, or floor markers).
 */
import { envName, NAMESPACE, ZONE, type BaselineService } from "./model.js";

const MANAGED = { "app.kubernetes.io/managed-by": "msa-landing-zone" };
type Manifest = Record<string, unknown>;

const labels = (name: string, prune: string) => ({ [prune]: "", "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ZONE, ...MANAGED });
const selector = (name: string) => ({ "app.kubernetes.io/name": name, "app.kubernetes.io/part-of": ZONE });

export function serviceAccountManifest(name: string, namespace: string, prune: string): Manifest[] {
  return [{ apiVersion: "v1", kind: "ServiceAccount", metadata: { name, namespace, labels: { [prune]: "", ...MANAGED } } }];
}

export interface WorkloadRefs {
  /** The secret's ARN (the service's own secrets and SESSION_STORE_PASSWORD). */
  readonly secret: (key: string) => string;
  /** The config parameter's value. */
  readonly config: (key: string) => string;
  readonly topicArn: (event: string) => string;
  readonly queueArn: (queue: string) => string;
  readonly sessionEndpoint: string;
  readonly targetGroupArn: string | undefined;
  readonly image: string;
}

/** Public subnets the internal load balancers send from (pods live in the private ones). */
const LOAD_BALANCER_RANGES = ["10.0.128.0/20", "10.0.144.0/20", "10.0.160.0/20"];

/** A SecretProviderClass syncing `keys` from Secrets Manager into the Secret `name`. */
function secretProviderClass(name: string, namespace: string, labels: Record<string, string>, keys: readonly string[], arnOf: (key: string) => string): Manifest {
  return {
    apiVersion: "secrets-store.csi.x-k8s.io/v1",
    kind: "SecretProviderClass",
    metadata: { name, namespace, labels },
    spec: {
      provider: "aws",
      parameters: { usePodIdentity: "true", objects: JSON.stringify(keys.map((key) => ({ objectName: arnOf(key), objectType: "secretsmanager", objectAlias: key }))) },
      secretObjects: [{ secretName: name, type: "Opaque", labels: omitPrune(labels), data: keys.map((key) => ({ objectName: key, key })) }],
    },
  };
}

const omitPrune = (labels: Record<string, string>) => Object.fromEntries(Object.entries(labels).filter(([k]) => !k.startsWith("aws.cdk.eks/prune-")));
const secretsVolume = (secretProviderClass: string) => ({ name: "secrets-store", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass } } });

export function workloadManifests(s: BaselineService, prune: string, refs: WorkloadRefs): Manifest[] {
  const meta = (name: string) => ({ name, namespace: NAMESPACE, labels: labels(s.name, prune) });
  const env: Record<string, string> = {};
  for (const e of s.publishes) env[envName("TOPIC", e)] = refs.topicArn(e);
  for (const q of s.subscriptions) env[envName("QUEUE", q.queue)] = refs.queueArn(q.queue);
  const probe = (periodSeconds: number, failureThreshold: number) => ({
    httpGet: { path: "/health", port: "http" },
    initialDelaySeconds: 0,
    periodSeconds,
    timeoutSeconds: 2,
    failureThreshold,
  });
  const host = `${s.name}.${NAMESPACE}.svc.cluster.local`;
  const secrets = [...s.secrets, "SESSION_STORE_PASSWORD"];
  const config = Object.fromEntries(Object.keys(s.config).map((key) => [key, refs.config(key)]));
  const objects: Manifest[] = [secretProviderClass(`${s.name}-secrets`, NAMESPACE, labels(s.name, prune), secrets, refs.secret)];
  objects.push(
    {
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: meta(`${s.name}-config`),
      data: { ...config, SERVICE_NAME: s.name, PORT: String(s.port), CONFIG_PARAMETER_PATH: `/msa/${ZONE}/prod/config/${s.name}/`, ...env, SESSION_STORE_ENDPOINT: refs.sessionEndpoint, SESSION_STORE_TLS: "true" },
    },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta(s.name),
      spec: {
        selector: { matchLabels: selector(s.name) },
        strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
        template: {
          metadata: { labels: { ...selector(s.name), ...MANAGED } },
          spec: {
            serviceAccountName: s.name,
            automountServiceAccountToken: false,
            securityContext: { runAsNonRoot: true, runAsUser: 10001, runAsGroup: 10001, fsGroup: 10001, seccompProfile: { type: "RuntimeDefault" } },
            terminationGracePeriodSeconds: 30,
            topologySpreadConstraints: ["topology.kubernetes.io/zone", "kubernetes.io/hostname"].map((topologyKey) => ({
              maxSkew: 1,
              topologyKey,
              whenUnsatisfiable: "ScheduleAnyway",
              labelSelector: { matchLabels: selector(s.name) },
            })),
            containers: [
              {
                name: s.name,
                image: refs.image,
                ports: [{ name: "http", containerPort: s.port, protocol: "TCP" }],
                envFrom: [{ configMapRef: { name: `${s.name}-config` } }],
                env: secrets.map((key) => ({ name: key, valueFrom: { secretKeyRef: { name: `${s.name}-secrets`, key } } })),
                resources: { requests: { cpu: "250m", memory: "512Mi" }, limits: { memory: "512Mi" } },
                startupProbe: probe(5, 30),
                readinessProbe: probe(10, 3),
                livenessProbe: probe(20, 3),
                securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [
                  { name: "tmp", mountPath: "/tmp" },
                  { name: "secrets-store", mountPath: "/mnt/secrets-store", readOnly: true },
                ],
              },
            ],
            volumes: [{ name: "tmp", emptyDir: {} }, secretsVolume(`${s.name}-secrets`)],
          },
        },
      },
    },
    {
      apiVersion: "v1",
      kind: "Service",
      metadata: meta(s.name),
      spec: { type: "ClusterIP", selector: selector(s.name), ports: [{ name: "http", port: 80, targetPort: s.port, protocol: "TCP", appProtocol: "http" }] },
    },
    {
      apiVersion: "autoscaling/v2",
      kind: "HorizontalPodAutoscaler",
      metadata: meta(s.name),
      spec: {
        scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: s.name },
        minReplicas: s.replicas.min,
        maxReplicas: s.replicas.max,
        metrics: [{ type: "Resource", resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 70 } } }],
      },
    },
    { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta(s.name), spec: { selector: { matchLabels: selector(s.name) }, minAvailable: 1 } },
    {
      apiVersion: "networking.istio.io/v1",
      kind: "DestinationRule",
      metadata: meta(s.name),
      spec: {
        host,
        trafficPolicy: {
          connectionPool: { tcp: { maxConnections: 100 }, http: { http1MaxPendingRequests: 100 } },
          outlierDetection: { consecutive5xxErrors: 5, interval: "10s", baseEjectionTime: "30s", maxEjectionPercent: 50 },
          tls: { mode: "ISTIO_MUTUAL" },
        },
      },
    },
    {
      apiVersion: "networking.istio.io/v1",
      kind: "VirtualService",
      metadata: meta(s.name),
      spec: {
        hosts: [host],
        http: [
          {
            route: [{ destination: { host, port: { number: 80 } } }],
            retries: { attempts: 3, perTryTimeout: "2s", retryOn: "connect-failure,refused-stream,unavailable,cancelled" },
            timeout: "10s",
          },
        ],
      },
    },
  );
  if (refs.targetGroupArn) {
    objects.push(
      {
        apiVersion: "elbv2.k8s.aws/v1beta1",
        kind: "TargetGroupBinding",
        metadata: meta(s.name),
        spec: { serviceRef: { name: s.name, port: 80 }, targetGroupARN: refs.targetGroupArn, targetType: "ip" },
      },
      // The load balancers reach the pods in plaintext on the service port (the platform's policy admits their subnets).
      {
        apiVersion: "security.istio.io/v1",
        kind: "PeerAuthentication",
        metadata: meta(`${s.name}-from-load-balancer`),
        spec: { selector: { matchLabels: selector(s.name) }, mtls: { mode: "STRICT" }, portLevelMtls: { [String(s.port)]: { mode: "PERMISSIVE" } } },
      },
    );
  }
  return objects;
}

export function namespaceManifests(prune: string): Manifest[] {
  const meta = (name: string) => ({ name, namespace: NAMESPACE, labels: { [prune]: "", "app.kubernetes.io/part-of": ZONE, ...MANAGED } });
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: NAMESPACE,
        labels: { [prune]: "", "app.kubernetes.io/part-of": ZONE, ...MANAGED, "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted", "istio-injection": "enabled" },
      },
    },
    { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("default-deny-ingress"), spec: { podSelector: {}, policyTypes: ["Ingress"] } },
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: meta("allow-same-namespace-and-ingress"),
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: [{ podSelector: {} }, { namespaceSelector: { matchLabels: { "msa-landing-zone/ingress": "true" } } }] }] },
    },
  ];
}

/** The platform's one policy letting the gateway's load balancers (public subnets) reach every workload's http port. */
export function gatewayLoadBalancerManifests(prune: string): Manifest[] {
  return [
    {
      apiVersion: "networking.k8s.io/v1",
      kind: "NetworkPolicy",
      metadata: { name: "allow-gateway-load-balancers", namespace: NAMESPACE, labels: { [prune]: "", "app.kubernetes.io/part-of": ZONE, ...MANAGED } },
      spec: { podSelector: {}, policyTypes: ["Ingress"], ingress: [{ from: LOAD_BALANCER_RANGES.map((cidr) => ({ ipBlock: { cidr } })), ports: [{ protocol: "TCP", port: "http" }] }] },
    },
  ];
}

export function peerAuthenticationManifest(prune: string): Manifest[] {
  return [
    {
      apiVersion: "security.istio.io/v1",
      kind: "PeerAuthentication",
      metadata: { name: "default", namespace: "istio-system", labels: { [prune]: "", "app.kubernetes.io/part-of": ZONE, ...MANAGED } },
      spec: { mtls: { mode: "STRICT" } },
    },
  ];
}

/** Logstash (Redis buffer → OpenSearch) and Filebeat (nodes → Redis buffer) in the logging namespace; both read the buffer's AUTH token through a SecretProviderClass. */
export function logPipelineManifests(prune: string, redisHost: string, searchEndpoint: string, authTokenArn: string): Manifest[] {
  const meta = (name: string, app?: string) => ({
    name,
    namespace: "logging",
    labels: app ? labels(app, prune) : { [prune]: "", "app.kubernetes.io/part-of": ZONE, ...MANAGED },
  });
  const password = { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "log-buffer-auth", key: "password" } } };
  const logstashConf = [
    "input {",
    "  redis {",
    `    host => "${redisHost}"`,
    "    port => 6379",
    '    data_type => "list"',
    '    key => "logs"',
    "    ssl => true",
    '    password => "${REDIS_PASSWORD}"',
    "    codec => json",
    "  }",
    "}",
    "output {",
    "  opensearch {",
    `    hosts => ["https://${searchEndpoint}:443"]`,
    '    auth_type => { type => "aws_iam" region => "us-east-1" }',
    '    index => "msa-logs-%{+YYYY.MM.dd}"',
    "    manage_template => false",
    "    ecs_compatibility => disabled",
    "  }",
    "}",
    "",
  ].join("\n");
  const filebeatConf = [
    "filebeat.inputs:",
    "  - type: filestream",
    "    id: kubernetes-container-logs",
    "    paths:",
    "      - /var/log/containers/*.log",
    "    prospector.scanner.symlinks: true",
    "    parsers:",
    "      - container:",
    "          stream: all",
    "    processors:",
    "      - add_kubernetes_metadata:",
    "          host: ${NODE_NAME}",
    "          matchers:",
    "            - logs_path:",
    "                logs_path: /var/log/containers/",
    "output.redis:",
    "  hosts:",
    `    - ${redisHost}:6379`,
    "  key: logs",
    "  data_type: list",
    "  password: ${REDIS_PASSWORD}",
    "  ssl.enabled: true",
    "",
  ].join("\n");
  return [
    {
      apiVersion: "v1",
      kind: "Namespace",
      metadata: {
        name: "logging",
        labels: { [prune]: "", "app.kubernetes.io/part-of": ZONE, ...MANAGED, "pod-security.kubernetes.io/enforce": "privileged", "pod-security.kubernetes.io/warn": "baseline", "pod-security.kubernetes.io/audit": "baseline" },
      },
    },
    { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy", metadata: meta("default-deny-ingress"), spec: { podSelector: {}, policyTypes: ["Ingress"] } },
    secretProviderClass("log-buffer-auth", "logging", { [prune]: "", "app.kubernetes.io/part-of": ZONE, ...MANAGED }, ["password"], () => authTokenArn),
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("logstash", "logstash"), automountServiceAccountToken: false },
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta("logstash-pipeline", "logstash"), data: { "logstash.conf": logstashConf } },
    {
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: meta("logstash", "logstash"),
      spec: {
        replicas: 2,
        selector: { matchLabels: selector("logstash") },
        template: {
          metadata: { labels: { ...selector("logstash"), ...MANAGED }, annotations: { "checksum/pipeline": "b50204c4a4c19bde" } },
          spec: {
            serviceAccountName: "logstash",
            securityContext: { runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000, seccompProfile: { type: "RuntimeDefault" } },
            topologySpreadConstraints: [{ maxSkew: 1, topologyKey: "topology.kubernetes.io/zone", whenUnsatisfiable: "ScheduleAnyway", labelSelector: { matchLabels: selector("logstash") } }],
            containers: [
              {
                name: "logstash",
                image: "opensearchproject/logstash-oss-with-opensearch-output-plugin:8.9.0",
                ports: [{ name: "api", containerPort: 9600, protocol: "TCP" }],
                env: [{ name: "LS_JAVA_OPTS", value: "-Xms1g -Xmx1g" }, password],
                resources: { requests: { cpu: "500m", memory: "1536Mi" }, limits: { memory: "1536Mi" } },
                readinessProbe: { httpGet: { path: "/", port: "api" }, initialDelaySeconds: 30, periodSeconds: 10 },
                livenessProbe: { httpGet: { path: "/", port: "api" }, initialDelaySeconds: 120, periodSeconds: 20, failureThreshold: 3 },
                securityContext: { runAsNonRoot: true, allowPrivilegeEscalation: false, readOnlyRootFilesystem: false, capabilities: { drop: ["ALL"] } },
                volumeMounts: [
                  { name: "pipeline", mountPath: "/usr/share/logstash/pipeline", readOnly: true },
                  { name: "data", mountPath: "/usr/share/logstash/data" },
                  { name: "buffer-password", mountPath: "/mnt/secrets-store", readOnly: true },
                ],
              },
            ],
            volumes: [{ name: "pipeline", configMap: { name: "logstash-pipeline" } }, { name: "data", emptyDir: {} }, { ...secretsVolume("log-buffer-auth"), name: "buffer-password" }],
          },
        },
      },
    },
    { apiVersion: "policy/v1", kind: "PodDisruptionBudget", metadata: meta("logstash", "logstash"), spec: { selector: { matchLabels: selector("logstash") }, maxUnavailable: 1 } },
    { apiVersion: "v1", kind: "ServiceAccount", metadata: meta("filebeat", "filebeat") },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRole",
      metadata: { name: `${ZONE}-logging-filebeat`, labels: labels("filebeat", prune) },
      rules: [{ apiGroups: [""], resources: ["pods", "namespaces", "nodes"], verbs: ["get", "list", "watch"] }],
    },
    {
      apiVersion: "rbac.authorization.k8s.io/v1",
      kind: "ClusterRoleBinding",
      metadata: { name: `${ZONE}-logging-filebeat`, labels: labels("filebeat", prune) },
      roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: `${ZONE}-logging-filebeat` },
      subjects: [{ kind: "ServiceAccount", name: "filebeat", namespace: "logging" }],
    },
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta("filebeat-config", "filebeat"), data: { "filebeat.yml": filebeatConf } },
    {
      apiVersion: "apps/v1",
      kind: "DaemonSet",
      metadata: meta("filebeat", "filebeat"),
      spec: {
        selector: { matchLabels: selector("filebeat") },
        updateStrategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 1 } },
        template: {
          metadata: { labels: { ...selector("filebeat"), ...MANAGED }, annotations: { "checksum/config": "63ab4be7d50ca717" } },
          spec: {
            serviceAccountName: "filebeat",
            securityContext: { seccompProfile: { type: "RuntimeDefault" } },
            tolerations: [{ operator: "Exists", effect: "NoSchedule" }],
            terminationGracePeriodSeconds: 30,
            containers: [
              {
                name: "filebeat",
                image: "docker.elastic.co/beats/filebeat:8.19.6",
                args: ["-c", "/etc/filebeat/filebeat.yml", "-e"],
                env: [{ name: "NODE_NAME", valueFrom: { fieldRef: { fieldPath: "spec.nodeName" } } }, password],
                resources: { requests: { cpu: "100m", memory: "128Mi" }, limits: { memory: "512Mi" } },
                securityContext: { runAsUser: 0, runAsNonRoot: false, allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } },
                volumeMounts: [
                  { name: "config", mountPath: "/etc/filebeat", readOnly: true },
                  { name: "varlog", mountPath: "/var/log", readOnly: true },
                  { name: "state", mountPath: "/usr/share/filebeat/data" },
                  { name: "buffer-password", mountPath: "/mnt/secrets-store", readOnly: true },
                ],
              },
            ],
            volumes: [
              { name: "config", configMap: { name: "filebeat-config" } },
              { name: "varlog", hostPath: { path: "/var/log", type: "Directory" } },
              { name: "state", hostPath: { path: "/var/lib/filebeat-data", type: "DirectoryOrCreate" } },
              { ...secretsVolume("log-buffer-auth"), name: "buffer-password" },
            ],
          },
        },
      },
    },
  ];
}

/** The AWS Load Balancer Controller's IAM policy (the upstream file the landing zone ships). */
export { default as loadBalancerControllerPolicy } from "../../lib/cdk/policies/aws-load-balancer-controller-v3.2.2.json" with { type: "json" };
