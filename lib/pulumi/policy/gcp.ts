import type { StackValidationArgs } from "@pulumi/policy";
import { isStatefulPulumiType } from "../../plan/stateful.js";
import { expectValue, get, listOf, resourceRule, stackRule, type LandingZonePolicy } from "./rules.js";

/** Basic roles grant every permission of a product family at once; no member of a landing zone needs one. */
const BASIC_ROLES = new Set(["roles/owner", "roles/editor", "roles/viewer"]);
/** Data roles that must be narrowed to one database by an IAM condition. */
const DATA_ROLE = /^roles\/(cloudsql\.|datastore\.)/;
/** Label gcpLabels derives from the `msa:environment` tag. */
const ENVIRONMENT_LABEL = "msa_environment";

const encryption: LandingZonePolicy[] = [
  resourceRule("gcp-gke-secrets-encrypted", "encryption-at-rest", "GKE clusters envelope-encrypt Kubernetes Secrets with a Cloud KMS key.", ["gcp:container/cluster:Cluster"], (p) => [
    ...expectValue(get(p, "databaseEncryption", "state"), "ENCRYPTED", "databaseEncryption.state"),
    ...(get(p, "databaseEncryption", "keyName") ? [] : ["databaseEncryption.keyName must name a Cloud KMS key"]),
  ]),
  resourceRule("gcp-redis-tls-auth", "encryption-in-transit", "Memorystore for Redis takes TLS only and requires AUTH.", ["gcp:redis/instance:Instance"], (p) => [
    ...expectValue(p["transitEncryptionMode"], "SERVER_AUTHENTICATION", "transitEncryptionMode"),
    ...expectValue(p["authEnabled"], true, "authEnabled"),
  ]),
  resourceRule("gcp-sql-tls", "encryption-in-transit", "Cloud SQL instances refuse unencrypted connections.", ["gcp:sql/databaseInstance:DatabaseInstance"], (p) => {
    const mode = get(p, "settings", "ipConfiguration", "sslMode");
    return mode === "ENCRYPTED_ONLY" || mode === "TRUSTED_CLIENT_CERTIFICATE_REQUIRED" ? [] : [`settings.ipConfiguration.sslMode must be ENCRYPTED_ONLY, is ${mode === undefined ? "unset" : JSON.stringify(mode)}`];
  }),
  resourceRule("gcp-https-tls-policy", "encryption-in-transit", "HTTPS proxies pin a TLS policy (TLS 1.2 or later).", ["gcp:compute/targetHttpsProxy:TargetHttpsProxy"], (p) => (p["sslPolicy"] ? [] : ["sslPolicy must be set"])),
  resourceRule("gcp-http-redirects-only", "encryption-in-transit", "A URL map with no backend only redirects to HTTPS, so nothing is served in plain text.", ["gcp:compute/uRLMap:URLMap"], (p) =>
    p["defaultService"] === undefined && get(p, "defaultUrlRedirect", "httpsRedirect") !== true ? ["a URL map without defaultService must redirect to HTTPS (defaultUrlRedirect.httpsRedirect)"] : [],
  ),
];

const noPublicData: LandingZonePolicy[] = [
  resourceRule("gcp-sql-private", "no-public-data", "Cloud SQL instances have no public IP address.", ["gcp:sql/databaseInstance:DatabaseInstance"], (p) =>
    get(p, "settings", "ipConfiguration", "ipv4Enabled") === false ? [] : ["settings.ipConfiguration.ipv4Enabled must be false"],
  ),
  resourceRule("gcp-redis-private", "no-public-data", "Memorystore instances are reached through private service access on the landing zone's network.", ["gcp:redis/instance:Instance"], (p) => [
    ...expectValue(p["connectMode"], "PRIVATE_SERVICE_ACCESS", "connectMode"),
    ...(p["authorizedNetwork"] ? [] : ["authorizedNetwork must be set"]),
  ]),
  resourceRule("gcp-no-external-ip", "no-public-data", "VMs get no external IP address.", ["gcp:compute/instanceTemplate:InstanceTemplate", "gcp:compute/instance:Instance"], (p) =>
    listOf(p["networkInterfaces"])
      .filter((n) => listOf(n["accessConfigs"]).length > 0)
      .map(() => "networkInterfaces must not have accessConfigs"),
  ),
  resourceRule("gcp-gke-private-nodes", "no-public-data", "GKE nodes have private addresses only.", ["gcp:container/cluster:Cluster"], (p) =>
    expectValue(get(p, "privateClusterConfig", "enablePrivateNodes"), true, "privateClusterConfig.enablePrivateNodes"),
  ),
  resourceRule("gcp-no-open-ingress", "no-public-data", "No firewall rule admits the internet; Google's load balancers reach backends from their own ranges.", ["gcp:compute/firewall:Firewall"], (p) =>
    (p["direction"] ?? "INGRESS") === "INGRESS" && listOf(p["allows"]).length > 0 && ((p["sourceRanges"] as string[] | undefined) ?? []).includes("0.0.0.0/0")
      ? ["allows ingress from 0.0.0.0/0"]
      : [],
  ),
  resourceRule("gcp-app-engine-ingress", "no-public-data", "App Engine services take traffic only from inside and through the load balancer.", ["gcp:appengine/serviceNetworkSettings:ServiceNetworkSettings"], (p) => {
    const allowed = get(p, "networkSettings", "ingressTrafficAllowed");
    return allowed === "INGRESS_TRAFFIC_ALLOWED_INTERNAL_AND_LB" || allowed === "INGRESS_TRAFFIC_ALLOWED_INTERNAL_ONLY" ? [] : [`networkSettings.ingressTrafficAllowed must not be ${JSON.stringify(allowed ?? "unset")}`];
  }),
  resourceRule("gcp-bucket-not-public", "no-public-data", "Buckets enforce public access prevention and uniform access.", ["gcp:storage/bucket:Bucket"], (p) => [
    ...expectValue(p["publicAccessPrevention"], "enforced", "publicAccessPrevention"),
    ...expectValue(p["uniformBucketLevelAccess"], true, "uniformBucketLevelAccess"),
  ]),
  resourceRule("gcp-bucket-iam-not-public", "no-public-data", "No bucket grants a role to allUsers or allAuthenticatedUsers; the CDN reads private buckets as its own account.", ["gcp:storage/bucketIAMMember:BucketIAMMember", "gcp:storage/bucketIAMBinding:BucketIAMBinding"], (p) =>
    [p["member"], ...((p["members"] as unknown[] | undefined) ?? [])].filter((m) => m === "allUsers" || m === "allAuthenticatedUsers").map((m) => `grants ${String(p["role"])} to ${String(m)}`),
  ),
];

const leastPrivilege: LandingZonePolicy[] = [
  resourceRule(
    "gcp-no-basic-roles",
    "least-privilege",
    "Nobody gets a basic role (owner, editor, viewer).",
    (type) => type.startsWith("gcp:") && /IamMember|IAMMember|IamBinding|IAMBinding/.test(type),
    (p) => (BASIC_ROLES.has(String(p["role"])) ? [`grants ${String(p["role"])}`] : []),
  ),
  resourceRule("gcp-data-roles-conditioned", "least-privilege", "Project-level Cloud SQL and Firestore roles are conditioned on one database, so a service reaches only its own.", ["gcp:projects/iAMMember:IAMMember"], (p) =>
    DATA_ROLE.test(String(p["role"])) && !get(p, "condition", "expression") ? [`grants ${String(p["role"])} on every database of the project; add a condition on resource.name`] : [],
  ),
  resourceRule("gcp-no-service-account-keys", "least-privilege", "No service account key is created: workloads use Workload Identity or their VM's account.", ["gcp:serviceaccount/key:Key"], () => ["creates a long-lived service account key"]),
  resourceRule("gcp-nodes-own-account", "least-privilege", "GKE nodes and VMs run as a dedicated service account, never the Compute Engine default.", ["gcp:container/nodePool:NodePool", "gcp:compute/instanceTemplate:InstanceTemplate"], (p, args) => {
    const account = args.type === "gcp:container/nodePool:NodePool" ? get(p, "nodeConfig", "serviceAccount") : get(p, "serviceAccount", "email");
    if (account === undefined || account === "default") return ["runs as the Compute Engine default service account"];
    return String(account).endsWith("-compute@developer.gserviceaccount.com") ? ["runs as the Compute Engine default service account"] : [];
  }),
];

const logging: LandingZonePolicy[] = [
  resourceRule("gcp-subnet-flow-logs", "logging", "Subnets record VPC flow logs.", ["gcp:compute/subnetwork:Subnetwork"], (p) => (p["logConfig"] ? [] : ["logConfig must be set"])),
  resourceRule("gcp-load-balancer-logs", "logging", "Backend services of the external load balancer log requests.", ["gcp:compute/backendService:BackendService"], (p) =>
    expectValue(get(p, "logConfig", "enable"), true, "logConfig.enable"),
  ),
  resourceRule("gcp-gke-control-plane-logs", "logging", "GKE clusters send the API server's logs to Cloud Logging.", ["gcp:container/cluster:Cluster"], (p) =>
    ((get(p, "loggingConfig", "enableComponents") as string[] | undefined) ?? []).includes("APISERVER") ? [] : ['loggingConfig.enableComponents must include "APISERVER"'],
  ),
];

const dataProtection: LandingZonePolicy[] = [
  stackRule("gcp-prod-stateful-protected", "data-protection", "In a prod stack (label msa_environment=prod anywhere), every GCP resource that holds data is protected from deletion.", (args: StackValidationArgs) => {
    const prod = args.resources.some((r) => [get(r.props, "labels", ENVIRONMENT_LABEL), get(r.props, "resourceLabels", ENVIRONMENT_LABEL), get(r.props, "settings", "userLabels", ENVIRONMENT_LABEL)].includes("prod"));
    if (!prod) return [];
    return args.resources
      .filter((r) => r.type.startsWith("gcp:") && isStatefulPulumiType(r.type) && !r.opts.protect)
      .map((r) => [`${r.type} ${r.name} holds data in prod but is not protected; set protect (and retainOnDelete)`, r.urn] as const);
  }),
];

const workloadHardening: LandingZonePolicy[] = [
  resourceRule("gcp-shielded-vms", "workload-hardening", "VMs and GKE nodes boot with Secure Boot and integrity monitoring.", ["gcp:compute/instanceTemplate:InstanceTemplate", "gcp:container/nodePool:NodePool"], (p, args) => {
    const shielded = args.type === "gcp:container/nodePool:NodePool" ? get(p, "nodeConfig", "shieldedInstanceConfig") : get(p, "shieldedInstanceConfig");
    return [...expectValue(get(shielded, "enableSecureBoot"), true, "shieldedInstanceConfig.enableSecureBoot"), ...expectValue(get(shielded, "enableIntegrityMonitoring"), true, "shieldedInstanceConfig.enableIntegrityMonitoring")];
  }),
  resourceRule("gcp-vm-os-login", "workload-hardening", "VMs admit SSH only through OS Login, never project-wide keys.", ["gcp:compute/instanceTemplate:InstanceTemplate"], (p) => [
    ...expectValue(get(p, "metadata", "enable-oslogin"), "TRUE", "metadata.enable-oslogin"),
    ...expectValue(get(p, "metadata", "block-project-ssh-keys"), "TRUE", "metadata.block-project-ssh-keys"),
  ]),
  resourceRule("gcp-gke-metadata-server", "workload-hardening", "GKE pods see the GKE metadata server (Workload Identity), never the node's credentials.", ["gcp:container/nodePool:NodePool"], (p) =>
    expectValue(get(p, "nodeConfig", "workloadMetadataConfig", "mode"), "GKE_METADATA", "nodeConfig.workloadMetadataConfig.mode"),
  ),
];

/** The GCP rules of the landing zone's Pulumi policy pack, each mandatory. */
export const gcpPolicies: readonly LandingZonePolicy[] = [...encryption, ...noPublicData, ...leastPrivilege, ...logging, ...dataProtection, ...workloadHardening];
