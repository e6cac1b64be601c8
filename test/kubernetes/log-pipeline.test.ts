import { parse } from "yaml";
import { describe, expect, it } from "vitest";
import {
  AZURE_EVENT_HUBS_CHECKPOINT_CONTAINER,
  AZURE_EVENT_HUBS_SECRET_KEYS,
  ECK_OPERATOR_CHART,
  ECK_ROLES_SECRET,
  eckUserSecretData,
  logstashPipelineConfig,
  LOG_INDEX_PREFIX,
  LOGSTASH_BEATS_PORT,
  LOGSTASH_HTTP_PORT,
  LOG_BUFFER_SECRET,
  logBufferSecretProviderClass,
  logPipelineAddOn,
  SECRETS_MOUNT_PATH,
  type LogBuffer,
  type LogSink,
} from "../../lib/kubernetes/index.js";
import { planLandingZone } from "../../lib/plan/index.js";
import { allStrings, checkAddOn, ofKind, one } from "./addon-helpers.js";

const services = [{ name: "orders" }];
const awsPlan = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", environment: "prod", services });
const awsNoBufferPlan = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", logging: { buffer: "none" }, services });
const gcpPlan = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", services });
const fluentBitPlan = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", logging: { buffer: "none", shipper: "fluent-bit" }, services });

const buffer: LogBuffer = { host: "master.logs-buffer.abc123.apn2.cache.amazonaws.com", port: 6379, tls: true, passwordSecretName: "log-buffer-auth" };
const opensearch: LogSink = { kind: "opensearch", endpoint: "https://vpc-shop-logs-abc.ap-northeast-2.es.amazonaws.com", region: "ap-northeast-2" };
const eck: LogSink = { kind: "eck" };

const pipelineOf = (manifests: Parameters<typeof one>[0]) => one(manifests, "ConfigMap", "logstash-pipeline").data["logstash.conf"] as string;
const filebeatConfigOf = (manifests: Parameters<typeof one>[0]) => parse(one(manifests, "ConfigMap", "filebeat-config").data["filebeat.yml"]) as Record<string, any>;

describe("logPipelineAddOn", () => {
  it("returns only schema-valid objects, all in plan.logging.namespace (an own Namespace first)", () => {
    for (const [plan, options] of [
      [awsPlan, { sink: opensearch, buffer }],
      [awsNoBufferPlan, { sink: opensearch }],
      [gcpPlan, { sink: eck, buffer: { ...buffer, host: "log-buffer.logging.svc.cluster.local", tls: false } }],
      [fluentBitPlan, { sink: eck }],
    ] as const) {
      const addOn = logPipelineAddOn(plan, options);
      checkAddOn(addOn);
      expect(addOn.namespace).toBe(plan.logging!.namespace);
      expect(addOn.manifests[0]!.kind).toBe("Namespace");
      expect(addOn.manifests[0]!.metadata.name).toBe("logging");
      for (const object of addOn.manifests) {
        if (!["Namespace", "ClusterRole", "ClusterRoleBinding"].includes(object.kind)) expect(object.metadata.namespace, object.kind).toBe("logging");
      }
    }
  });

  it("Filebeat pushes container logs to the buffer's Redis list, and Logstash pops that list into OpenSearch signed with IAM", () => {
    const { manifests } = logPipelineAddOn(awsPlan, { sink: opensearch, buffer });
    const filebeat = filebeatConfigOf(manifests);
    expect(filebeat["output.redis"]).toEqual({
      hosts: [`${buffer.host}:6379`],
      key: awsPlan.logging!.bufferKey,
      data_type: "list",
      password: "${REDIS_PASSWORD}",
      "ssl.enabled": true,
    });
    expect(filebeat["output.logstash"]).toBeUndefined();
    expect(filebeat["filebeat.inputs"][0].paths).toEqual(["/var/log/containers/*.log"]);

    const pipeline = pipelineOf(manifests);
    expect(pipeline).toMatch(/input \{\n  redis \{/);
    expect(pipeline).toContain(`host => "${buffer.host}"`);
    expect(pipeline).toContain(`key => "${awsPlan.logging!.bufferKey}"`);
    expect(pipeline).toContain(`data_type => "list"`);
    expect(pipeline).toContain("ssl => true");
    expect(pipeline).toContain('password => "${REDIS_PASSWORD}"');
    expect(pipeline).toMatch(/output \{\n  opensearch \{/);
    expect(pipeline).toContain('hosts => ["https://vpc-shop-logs-abc.ap-northeast-2.es.amazonaws.com:443"]');
    expect(pipeline).toContain('auth_type => { type => "aws_iam" region => "ap-northeast-2" }');
    expect(pipeline).toContain(`index => "${LOG_INDEX_PREFIX}-%{+YYYY.MM.dd}"`);
    expect(pipeline).toContain("ecs_compatibility => disabled");

    const logstash = one(manifests, "Deployment", "logstash");
    expect(logstash.spec.template.spec.containers[0].image).toMatch(/^opensearchproject\/logstash-oss-with-opensearch-output-plugin:\d+\.\d+\.\d+$/);
    // Logstash pulls from Redis: nothing needs to reach it.
    expect(ofKind(manifests, "Service")).toEqual([]);
  });

  it("reads the Redis password and never holds a literal secret", () => {
    const { manifests } = logPipelineAddOn(awsPlan, { sink: opensearch, buffer });
    const passwordRef = { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: "log-buffer-auth", key: "password" } } };
    expect(one(manifests, "Deployment", "logstash").spec.template.spec.containers[0].env).toContainEqual(passwordRef);
    expect(one(manifests, "DaemonSet", "filebeat").spec.template.spec.containers[0].env).toContainEqual(passwordRef);
    expect(ofKind(manifests, "Secret")).toEqual([]);
    expect(allStrings(manifests).filter((s) => /password\s*(=>|:)\s*"?[^"$\s]/.test(s))).toEqual([]);
  });

  describe("buffer password from a SecretProviderClass", () => {
    const tokenArn = "arn:aws:secretsmanager:ap-northeast-2:111111111111:secret:LogsBufferAuthToken-AbCdEf";
    const provider = logBufferSecretProviderClass(awsPlan, tokenArn);
    const fromProvider: LogBuffer = { ...buffer, passwordSecretName: LOG_BUFFER_SECRET, passwordSecretProviderClass: provider };

    it("reads the token with the pods' own identity and mirrors it as key `password` of the Secret they read", () => {
      const spc = provider as unknown as { metadata: { name: string; namespace: string }; spec: { provider: string; parameters: { usePodIdentity: string; objects: string }; secretObjects: unknown[] } };
      expect(spc).toMatchObject({ apiVersion: "secrets-store.csi.x-k8s.io/v1", kind: "SecretProviderClass", metadata: { name: LOG_BUFFER_SECRET, namespace: "logging" } });
      expect(spc.spec.provider).toBe("aws");
      expect(spc.spec.parameters.usePodIdentity).toBe("true");
      expect(JSON.parse(spc.spec.parameters.objects)).toEqual([{ objectName: tokenArn, objectType: "secretsmanager", objectAlias: "password" }]);
      expect(spc.spec.secretObjects).toEqual([
        { secretName: LOG_BUFFER_SECRET, type: "Opaque", labels: { "app.kubernetes.io/part-of": "shop", "app.kubernetes.io/managed-by": "msa-landing-zone" }, data: [{ objectName: "password", key: "password" }] },
      ]);
    });

    it("applies the class before the pods, and Logstash and Filebeat both mount it and read REDIS_PASSWORD from its mirror", () => {
      const addOn = logPipelineAddOn(awsPlan, { sink: opensearch, buffer: fromProvider });
      checkAddOn(addOn);
      const { manifests } = addOn;
      const kinds = manifests.map((m) => m.kind);
      expect(kinds.indexOf("SecretProviderClass")).toBeGreaterThan(kinds.indexOf("Namespace"));
      expect(kinds.indexOf("SecretProviderClass")).toBeLessThan(kinds.indexOf("Deployment"));
      expect(kinds.indexOf("SecretProviderClass")).toBeLessThan(kinds.indexOf("DaemonSet"));
      expect(ofKind(manifests, "SecretProviderClass")).toEqual([provider]);
      const volume = { name: "buffer-password", csi: { driver: "secrets-store.csi.k8s.io", readOnly: true, volumeAttributes: { secretProviderClass: LOG_BUFFER_SECRET } } };
      const mount = { name: "buffer-password", mountPath: SECRETS_MOUNT_PATH, readOnly: true };
      const passwordRef = { name: "REDIS_PASSWORD", valueFrom: { secretKeyRef: { name: LOG_BUFFER_SECRET, key: "password" } } };
      for (const pod of [one(manifests, "Deployment", "logstash").spec.template.spec, one(manifests, "DaemonSet", "filebeat").spec.template.spec]) {
        expect(pod.volumes).toContainEqual(volume);
        expect(pod.containers[0].volumeMounts).toContainEqual(mount);
        expect(pod.containers[0].env).toContainEqual(passwordRef);
      }
      expect(ofKind(manifests, "Secret")).toEqual([]);
    });

    it("without the option, the pods mount nothing and read a Secret the engine creates", () => {
      const { manifests } = logPipelineAddOn(awsPlan, { sink: opensearch, buffer });
      expect(ofKind(manifests, "SecretProviderClass")).toEqual([]);
      for (const pod of [one(manifests, "Deployment", "logstash").spec.template.spec, one(manifests, "DaemonSet", "filebeat").spec.template.spec]) {
        expect(pod.volumes.filter((v: { csi?: unknown }) => v.csi)).toEqual([]);
      }
    });

    it("rejects a class elsewhere or one that does not mirror the Secret and key the pods read", () => {
      expect(() => logPipelineAddOn(awsPlan, { sink: opensearch, buffer: { ...fromProvider, passwordSecretProviderClass: { ...provider, metadata: { ...provider.metadata, namespace: "shop" } } } })).toThrow(
        /passwordSecretProviderClass: SecretProviderClass shop\/log-buffer-auth is not a SecretProviderClass in "logging". Fix: pass logBufferSecretProviderClass/,
      );
      expect(() => logPipelineAddOn(awsPlan, { sink: opensearch, buffer: { ...fromProvider, passwordSecretName: "other-secret" } })).toThrow(
        /passwordSecretProviderClass: log-buffer-auth does not mirror key "password" into Secret "other-secret". Fix/,
      );
      const noLogging = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", logging: { stack: "none", buffer: "none" } });
      expect(() => logBufferSecretProviderClass(noLogging, tokenArn)).toThrow(/plan.logging is undefined/);
    });
  });

  it("without a buffer, Filebeat ships straight to Logstash's beats input through a Service", () => {
    const { manifests } = logPipelineAddOn(awsNoBufferPlan, { sink: opensearch });
    const filebeat = filebeatConfigOf(manifests);
    expect(filebeat["output.redis"]).toBeUndefined();
    expect(filebeat["output.logstash"]).toEqual({ hosts: [`logstash.logging.svc.cluster.local:${LOGSTASH_BEATS_PORT}`] });
    expect(pipelineOf(manifests)).toMatch(new RegExp(`input \\{\\n  beats \\{\\n    port => ${LOGSTASH_BEATS_PORT}`));
    expect(pipelineOf(manifests)).not.toContain("redis");
    const service = one(manifests, "Service", "logstash");
    expect(service.spec.ports).toEqual([{ name: "beats", port: LOGSTASH_BEATS_PORT, targetPort: "beats", protocol: "TCP" }]);
    expect(service.spec.selector).toEqual(one(manifests, "Deployment", "logstash").spec.selector.matchLabels);
    const allow = one(manifests, "NetworkPolicy", "allow-shippers-to-logstash");
    expect(allow.spec.podSelector.matchLabels).toEqual(service.spec.selector);
  });

  it("Fluent Bit (no Redis output) posts to Logstash's http input", () => {
    const { manifests } = logPipelineAddOn(fluentBitPlan, { sink: eck });
    const config = one(manifests, "ConfigMap", "fluent-bit-config").data["fluent-bit.conf"] as string;
    expect(config).toMatch(/\[OUTPUT\]\n\s+Name\s+http/);
    expect(config).toMatch(/Host\s+logstash\.logging\.svc\.cluster\.local/);
    expect(config).toMatch(new RegExp(`Port\\s+${LOGSTASH_HTTP_PORT}`));
    expect(pipelineOf(manifests)).toContain(`http {\n    port => ${LOGSTASH_HTTP_PORT}`);
    expect(one(manifests, "Service", "logstash").spec.ports[0].port).toBe(LOGSTASH_HTTP_PORT);
    expect(one(manifests, "DaemonSet", "fluent-bit").spec.template.spec.containers[0].image).toMatch(/fluent-bit:\d+\.\d+\.\d+$/);
    expect(ofKind(manifests, "DaemonSet")).toHaveLength(1);
  });

  it("the shipper runs on every node with read-only RBAC on pods, namespaces and nodes only", () => {
    const { manifests } = logPipelineAddOn(awsPlan, { sink: opensearch, buffer });
    const role = one(manifests, "ClusterRole");
    expect(role.rules).toEqual([{ apiGroups: [""], resources: ["pods", "namespaces", "nodes"], verbs: ["get", "list", "watch"] }]);
    const binding = one(manifests, "ClusterRoleBinding");
    expect(binding.roleRef.name).toBe(role.metadata.name);
    expect(binding.subjects).toEqual([{ kind: "ServiceAccount", name: "filebeat", namespace: "logging" }]);
    const daemonSet = one(manifests, "DaemonSet", "filebeat");
    const pod = daemonSet.spec.template.spec;
    expect(pod.serviceAccountName).toBe("filebeat");
    const container = pod.containers[0];
    expect(container.securityContext).toMatchObject({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: { drop: ["ALL"] } });
    expect(container.resources.requests).toBeDefined();
    expect(container.resources.limits.memory).toBeDefined();
    expect(container.volumeMounts).toContainEqual({ name: "varlog", mountPath: "/var/log", readOnly: true });
    expect(pod.volumes.find((v: any) => v.name === "config").configMap.name).toBe("filebeat-config");
  });

  it("Logstash runs plan.logging.logstashReplicas non-root pods with resources, and a PodDisruptionBudget when there are several", () => {
    const prod = logPipelineAddOn(awsPlan, { sink: opensearch, buffer }).manifests;
    const deployment = one(prod, "Deployment", "logstash");
    expect(deployment.spec.replicas).toBe(awsPlan.logging!.logstashReplicas);
    expect(awsPlan.logging!.logstashReplicas).toBeGreaterThan(1);
    expect(deployment.spec.template.spec.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(deployment.spec.template.spec.containers[0].resources).toMatchObject({ requests: { cpu: "500m" }, limits: { memory: "1536Mi" } });
    expect(one(prod, "PodDisruptionBudget", "logstash").spec.minAvailable).toBe(1);
    const dev = logPipelineAddOn(awsNoBufferPlan, { sink: opensearch }).manifests;
    expect(one(dev, "Deployment", "logstash").spec.replicas).toBe(1);
    expect(ofKind(dev, "PodDisruptionBudget")).toEqual([]);
  });

  it("passes IRSA / Workload Identity annotations to Logstash's ServiceAccount", () => {
    const annotations = { "eks.amazonaws.com/role-arn": "arn:aws:iam::123456789012:role/shop-logstash" };
    const { manifests } = logPipelineAddOn(awsPlan, { sink: opensearch, buffer, logstashServiceAccountAnnotations: annotations });
    const account = one(manifests, "ServiceAccount", "logstash");
    expect(account.metadata.annotations).toEqual(annotations);
    expect(one(manifests, "Deployment", "logstash").spec.template.spec.serviceAccountName).toBe("logstash");
  });

  it("a pipeline change rolls Logstash through a checksum annotation", () => {
    const a = one(logPipelineAddOn(awsPlan, { sink: opensearch, buffer }).manifests, "Deployment", "logstash");
    const b = one(logPipelineAddOn(awsPlan, { sink: opensearch, buffer: { ...buffer, port: 6380 } }).manifests, "Deployment", "logstash");
    expect(a.spec.template.metadata.annotations["checksum/pipeline"]).not.toBe(b.spec.template.metadata.annotations["checksum/pipeline"]);
  });

  describe("eck sink", () => {
    const addOn = logPipelineAddOn(gcpPlan, { sink: eck, buffer: { ...buffer, host: "log-buffer.logging.svc.cluster.local", tls: false } });
    const { manifests } = addOn;

    it("installs the pinned ECK operator, then Elasticsearch and Kibana sized from plan.logging.search", () => {
      expect(addOn.helmReleases).toEqual([expect.objectContaining({ chart: "eck-operator", repository: "https://helm.elastic.co", namespace: ECK_OPERATOR_CHART.namespace })]);
      const es = one(manifests, "Elasticsearch");
      const search = gcpPlan.logging!.search;
      expect(es.apiVersion).toBe("elasticsearch.k8s.elastic.co/v1");
      expect(es.spec.version).toBe(search.engineVersion);
      expect(es.spec.nodeSets[0].count).toBe(search.instanceCount);
      expect(es.spec.nodeSets[0].volumeClaimTemplates[0].spec.resources.requests.storage).toBe(`${search.volumeGiB}Gi`);
      const kibana = one(manifests, "Kibana");
      expect(kibana.spec.elasticsearchRef).toEqual({ name: es.metadata.name });
      expect(kibana.spec.version).toBe(search.engineVersion);
    });

    it("Logstash writes to Elasticsearch over TLS as its own create-only user, never as the elastic superuser", () => {
      const pipeline = pipelineOf(manifests);
      expect(pipeline).toMatch(/output \{\n  elasticsearch \{/);
      expect(pipeline).toContain('hosts => ["https://logs-es-http.logging.svc:9200"]');
      expect(pipeline).toContain('user => "msa-log-writer"');
      expect(pipeline).toContain('password => "${ELASTIC_PASSWORD}"');
      expect(pipeline).toContain('action => "create"');
      expect(pipeline).toContain("ssl_enabled => true");
      expect(pipeline).toContain("ssl => false");
      expect(pipeline).not.toMatch(/user => "elastic"/);
      const container = one(manifests, "Deployment", "logstash").spec.template.spec.containers[0];
      expect(container.image).toMatch(/^docker\.elastic\.co\/logstash\/logstash:/);
      expect(container.env).toContainEqual({ name: "ELASTIC_PASSWORD", valueFrom: { secretKeyRef: { name: "logs-writer-user", key: "password" } } });
      expect(container.volumeMounts.map((m: any) => m.mountPath)).toContain("/etc/elasticsearch-ca");
      expect(allStrings(manifests).some((v) => v.includes("es-elastic-user"))).toBe(false);
    });

    it("Elasticsearch knows the pipeline's users from the file realm and their roles from the roles Secret, each scoped to its job", () => {
      const es = one(manifests, "Elasticsearch");
      expect(es.spec.auth).toEqual({ roles: [{ secretName: ECK_ROLES_SECRET }], fileRealm: [{ secretName: "logs-writer-user" }, { secretName: "logs-retention-user" }] });
      const rolesSecret = one(manifests, "Secret", ECK_ROLES_SECRET);
      expect(rolesSecret.metadata.namespace).toBe("logging");
      const roles = parse(rolesSecret.stringData["roles.yml"]);
      expect(roles).toEqual({
        msa_log_writer: { cluster: ["monitor"], indices: [{ names: [`${LOG_INDEX_PREFIX}-*`], privileges: ["create_doc", "create_index"] }] },
        // ILM deletes indices as the user who last put the policy, so that user manages the log indices, and only them.
        msa_log_retention: { cluster: ["manage_ilm", "manage_index_templates"], indices: [{ names: [`${LOG_INDEX_PREFIX}-*`], privileges: ["manage"] }] },
      });
      // Every role a user names is defined, no role reaches beyond the log indices, and none holds all rights or security.
      for (const user of ["writer", "retention"] as const) expect(Object.keys(roles)).toContain(eckUserSecretData(user).roles);
      for (const role of Object.values(roles) as { cluster: string[]; indices?: { names: string[] }[] }[]) {
        for (const entry of role.indices ?? []) expect(entry.names).toEqual([`${LOG_INDEX_PREFIX}-*`]);
        for (const privilege of role.cluster) expect(["all", "manage", "manage_security"]).not.toContain(privilege);
      }
    });

    it("a Job installs the ILM policy deleting indices after plan.logging.retentionDays", () => {
      const job = one(manifests, "Job");
      const env = job.spec.template.spec.containers[0].env as { name: string; value?: string }[];
      const policy = JSON.parse(env.find((e) => e.name === "POLICY")!.value!);
      expect(policy.policy.phases.delete.min_age).toBe(`${gcpPlan.logging!.retentionDays}d`);
      const template = JSON.parse(env.find((e) => e.name === "TEMPLATE")!.value!);
      expect(template.index_patterns).toEqual([`${LOG_INDEX_PREFIX}-*`]);
      expect(template.template.settings["index.lifecycle.name"]).toBe(LOG_INDEX_PREFIX);
      expect(job.spec.template.spec.containers[0].securityContext).toMatchObject({ runAsNonRoot: true, readOnlyRootFilesystem: true });
      // It signs in as the retention user, whose role manages ILM policies and templates only.
      expect(env).toContainEqual({ name: "ELASTIC_PASSWORD", valueFrom: { secretKeyRef: { name: "logs-retention-user", key: "password" } } });
      expect(job.spec.template.spec.containers[0].command[2]).toContain(`printf 'user = "msa-log-retention:%s`);
      const longer = planLandingZone({ name: "shop", cloud: "gcp", region: "asia-northeast3", logging: { retentionDays: 90 }, services });
      const other = one(logPipelineAddOn(longer, { sink: eck, buffer }).manifests, "Job");
      expect(other.metadata.name).not.toBe(job.metadata.name);
    });

    it("lets the operator and the namespace reach Elasticsearch, behind a default deny", () => {
      const names = ofKind(manifests, "NetworkPolicy").map((p) => p.metadata.name);
      expect(names).toEqual(["default-deny-ingress", "allow-elasticsearch-in-namespace", "allow-eck-operator-to-elasticsearch", "allow-ingress-to-kibana"]);
      const operator = one(manifests, "NetworkPolicy", "allow-eck-operator-to-elasticsearch");
      expect(operator.spec.ingress[0].from[0].namespaceSelector.matchLabels).toEqual({ "kubernetes.io/metadata.name": "elastic-system" });
    });
  });

  it("opensearch sink has no operator, no Elasticsearch and no Job", () => {
    const addOn = logPipelineAddOn(awsPlan, { sink: opensearch, buffer });
    expect(addOn.helmReleases).toEqual([]);
    expect(ofKind(addOn.manifests, "Elasticsearch")).toEqual([]);
    expect(ofKind(addOn.manifests, "Job")).toEqual([]);
  });

  it("rejects bad input with the prop, the value and the fix", () => {
    const noLogging = planLandingZone({ name: "shop", cloud: "aws", region: "ap-northeast-2", logging: { stack: "none", buffer: "none" } });
    expect(() => logPipelineAddOn(noLogging, { sink: opensearch })).toThrow(/plan\.logging is undefined.*Fix: set logging\.stack: elk/);
    expect(() => logPipelineAddOn(awsPlan, { sink: opensearch })).toThrow(/options\.buffer: undefined.*Fix: pass \{ host, port, tls, passwordSecretName \}/);
    expect(() => logPipelineAddOn(awsNoBufferPlan, { sink: opensearch, buffer })).toThrow(/options\.buffer: .* given, but plan\.logging\.buffer is undefined/);
    expect(() => logPipelineAddOn(awsPlan, { sink: { ...opensearch, endpoint: "http://insecure.example.com" }, buffer })).toThrow(
      /options\.sink\.endpoint: "http:\/\/insecure\.example\.com" is not an HTTPS domain endpoint/,
    );
    expect(() => logPipelineAddOn(awsPlan, { sink: { ...opensearch, region: 'x" }' }, buffer })).toThrow(/options\.sink\.region: .*Fix/);
    expect(() => logPipelineAddOn(awsPlan, { sink: opensearch, buffer: { ...buffer, host: 'evil" }' } })).toThrow(/options\.buffer\.host: .*Fix/);
    expect(() => logPipelineAddOn(awsPlan, { sink: opensearch, buffer: { ...buffer, port: 0 } })).toThrow(/options\.buffer\.port: 0 is not a TCP port/);
    expect(() => logPipelineAddOn(awsPlan, { sink: eck, buffer })).toThrow(/options\.sink\.kind: "eck", but plan\.logging\.search\.implementation is "opensearch"/);
  });
});

describe("logPipelineAddOn cloud inputs", () => {
  const buffer: LogBuffer = { host: "log-buffer.logging.svc.cluster.local", port: 6379, tls: false, passwordSecretName: "log-buffer-password" };
  const cloudInputs = [{ kind: "google-pubsub" as const, projectId: "my-project", topic: "shop-dev-app-engine-logs", subscription: "shop-dev-app-engine-logs-logstash" }];

  it("pulls an exported Pub/Sub subscription beside the buffer, as the ServiceAccount's cloud identity", () => {
    const addOn = logPipelineAddOn(gcpPlan, { sink: { kind: "eck" }, buffer, cloudInputs, logstashServiceAccountAnnotations: { "iam.gke.io/gcp-service-account": "shop-logstash@my-project.iam.gserviceaccount.com" } });
    checkAddOn(addOn);
    const pipeline = String(one(addOn.manifests, "ConfigMap", "logstash-pipeline")["data"]["logstash.conf"]);
    expect(pipeline).toContain('  google_pubsub {\n    project_id => "my-project"\n    topic => "shop-dev-app-engine-logs"\n    subscription => "shop-dev-app-engine-logs-logstash"\n    create_subscription => false\n    codec => json\n  }');
    expect(pipeline.indexOf("google_pubsub")).toBeLessThan(pipeline.indexOf("output {"));
    expect(one(addOn.manifests, "ServiceAccount", "logstash")["metadata"]["annotations"]).toEqual({ "iam.gke.io/gcp-service-account": "shop-logstash@my-project.iam.gserviceaccount.com" });
  });

  it("refuses a full resource id where a bare name belongs", () => {
    expect(() => logPipelineAddOn(gcpPlan, { sink: { kind: "eck" }, buffer, cloudInputs: [{ ...cloudInputs[0]!, topic: "projects/p/topics/t" }] })).toThrow(
      /options.cloudInputs\[0\].topic: "projects\/p\/topics\/t" is not a bare Google Cloud project, topic or subscription name/,
    );
  });
});

describe("logPipelineAddOn Azure Event Hubs input", () => {
  const buffer: LogBuffer = { host: "log-buffer.logging.svc.cluster.local", port: 6379, tls: false, passwordSecretName: "log-buffer-password" };
  const azurePlan = planLandingZone({ name: "shop", cloud: "azure", region: "koreacentral", services });
  const hub = { kind: "azure-event-hubs" as const, consumerGroup: "logstash", secretName: "app-service-log-export" };

  it("reads the hub with connection strings from the Secret only, checkpoints in blob storage, one event per record, into the same indices", () => {
    const addOn = logPipelineAddOn(azurePlan, { sink: { kind: "eck" }, buffer, cloudInputs: [hub] });
    checkAddOn(addOn);
    const pipeline = String(one(addOn.manifests, "ConfigMap", "logstash-pipeline")["data"]["logstash.conf"]);
    expect(pipeline).toContain(
      [
        "  azure_event_hubs {",
        '    event_hub_connections => ["${AZURE_EVENT_HUB_CONNECTION_0}"]',
        '    storage_connection => "${AZURE_CHECKPOINT_STORAGE_CONNECTION_0}"',
        `    storage_container => "${AZURE_EVENT_HUBS_CHECKPOINT_CONTAINER}"`,
        '    consumer_group => "logstash"',
        "    threads => 2",
        "    codec => json",
        '    tags => ["azure-resource-logs"]',
        "  }",
      ].join("\n"),
    );
    expect(pipeline).toContain('filter {\n  if "azure-resource-logs" in [tags] {\n    split { field => "records" }\n  }\n}\noutput {');
    // The buffer stays an input; the output is the one every tier writes.
    expect(pipeline).toContain("  redis {");
    expect(pipeline).toContain('index => "msa-logs-%{+YYYY.MM.dd}"');
    expect(pipeline).not.toMatch(/SharedAccessKey|AccountKey/);
    const deployment = one(addOn.manifests, "Deployment", "logstash");
    const env = deployment["spec"]["template"]["spec"]["containers"][0]["env"] as { name: string; valueFrom?: unknown; value?: string }[];
    expect(env.filter((e) => e.name.startsWith("AZURE_"))).toEqual([
      { name: "AZURE_EVENT_HUB_CONNECTION_0", valueFrom: { secretKeyRef: { name: "app-service-log-export", key: AZURE_EVENT_HUBS_SECRET_KEYS.eventHub } } },
      { name: "AZURE_CHECKPOINT_STORAGE_CONNECTION_0", valueFrom: { secretKeyRef: { name: "app-service-log-export", key: AZURE_EVENT_HUBS_SECRET_KEYS.storage } } },
    ]);
  });

  it("adds no filter without an Azure input", () => {
    const pipeline = logstashPipelineConfig(azurePlan, { sink: { kind: "eck" }, buffer });
    expect(pipeline).not.toContain("filter {");
    expect(pipeline).not.toContain("azure_event_hubs");
  });

  it("refuses a consumer group or Secret name that would break the pipeline or the manifest", () => {
    expect(() => logPipelineAddOn(azurePlan, { sink: { kind: "eck" }, buffer, cloudInputs: [{ ...hub, consumerGroup: 'x" }' }] })).toThrow(
      /options\.cloudInputs\[0\]\.consumerGroup: "x" }" is not an Event Hubs consumer group name\. Fix/,
    );
    expect(() => logPipelineAddOn(azurePlan, { sink: { kind: "eck" }, buffer, cloudInputs: [{ ...hub, secretName: "Bad_Name" }] })).toThrow(/options\.cloudInputs\[0\]\.secretName/);
  });
});
