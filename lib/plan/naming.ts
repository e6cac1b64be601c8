/** Physical-name rules per resource type, shared by both engines so names agree everywhere. */

import { createHash } from "node:crypto";

export interface NameRule {
  readonly maxLength: number;
  /** Characters allowed; others become '-'. */
  readonly allowed: RegExp;
  readonly lowercase: boolean;
  /** Must start with a letter. */
  readonly leadingLetter: boolean;
}

export const NAME_RULES = {
  /** CloudFormation stack names. */
  stack: { maxLength: 128, allowed: /[A-Za-z0-9-]/, lowercase: false, leadingLetter: true },
  /** ElastiCache replication group ids. */
  elasticache: { maxLength: 40, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** OpenSearch domain names. */
  opensearch: { maxLength: 28, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** EKS / GKE / AKS cluster names (GKE's 40 is the tightest). */
  cluster: { maxLength: 40, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** Load balancer and target group names. */
  loadBalancer: { maxLength: 32, allowed: /[A-Za-z0-9-]/, lowercase: false, leadingLetter: true },
  /** SQS queue and SNS topic names (.fifo aside). */
  queue: { maxLength: 80, allowed: /[A-Za-z0-9_-]/, lowercase: false, leadingLetter: false },
  /** S3 / GCS bucket names; globally unique, so callers add an account or project qualifier. */
  bucket: { maxLength: 63, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: false },
  /** Kubernetes object names (DNS-1123 label). */
  kubernetes: { maxLength: 63, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** IAM role names. */
  iamRole: { maxLength: 64, allowed: /[A-Za-z0-9+=,.@_-]/, lowercase: false, leadingLetter: false },
  /** CodePipeline pipelines and CodeBuild projects (CodeBuild's 255 is looser). */
  pipeline: { maxLength: 100, allowed: /[A-Za-z0-9_-]/, lowercase: false, leadingLetter: true },
  /** AWS CodeConnections connection names. */
  connection: { maxLength: 32, allowed: /[A-Za-z0-9_-]/, lowercase: false, leadingLetter: true },
  /** GCP resource ids (service accounts are the tightest at 30). */
  gcpServiceAccount: { maxLength: 30, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** GCP Compute resource names (URL maps, backends): RFC 1035 labels. */
  gcpResource: { maxLength: 63, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** Workload Identity Federation pool ids: 4-32 characters. */
  gcpPool: { maxLength: 32, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** RDS instance identifiers. */
  rds: { maxLength: 63, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** DynamoDB table names. */
  dynamodbTable: { maxLength: 255, allowed: /[A-Za-z0-9_.-]/, lowercase: false, leadingLetter: false },
  /** Azure storage accounts: 3-24 lowercase letters and digits, no dashes. */
  azureStorage: { maxLength: 24, allowed: /[a-z0-9]/, lowercase: true, leadingLetter: false },
  /** Azure Container Registry names: 5-50 letters and digits, no dashes. */
  azureRegistry: { maxLength: 50, allowed: /[a-z0-9]/, lowercase: true, leadingLetter: true },
  /** Key Vault names: 3-24 letters, digits and dashes, starting with a letter. */
  azureKeyVault: { maxLength: 24, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** Other globally unique Azure names (Redis, Service Bus, App Configuration, web apps, PostgreSQL, Cosmos DB: Cosmos's 44 is the tightest). */
  azureResource: { maxLength: 44, allowed: /[a-z0-9-]/, lowercase: true, leadingLetter: true },
  /** EventBridge Pipes, Lambda functions and EventBridge rules. */
  pipe: { maxLength: 64, allowed: /[A-Za-z0-9._-]/, lowercase: false, leadingLetter: false },
} as const satisfies Record<string, NameRule>;

export type NameKind = keyof typeof NAME_RULES;

/** A short stable hash, used when a name must be truncated so two long names stay distinct. */
export function shortHash(text: string, length = 6): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * Joins parts into a name valid for `kind`: illegal characters replaced, and when too long,
 * truncated with a hash of the full name so it stays unique and deterministic.
 */
export function physicalName(kind: NameKind, ...parts: readonly string[]): string {
  const rule: NameRule = NAME_RULES[kind];
  const joiner = rule.allowed.test("-") ? "-" : "";
  let name = parts.filter((p) => p.length > 0).join(joiner);
  if (rule.lowercase) name = name.toLowerCase();
  name = [...name].map((c) => (rule.allowed.test(c) ? c : joiner)).join("");
  if (joiner) name = name.replace(/-+/g, "-").replace(/^-|-$/g, "");
  if (rule.leadingLetter && !/^[A-Za-z]/.test(name)) name = `x${joiner}${name}`;
  if (name.length <= rule.maxLength) return name;
  const hash = shortHash(name);
  const keep = rule.maxLength - hash.length - joiner.length;
  return `${name.slice(0, keep).replace(/-+$/, "")}${joiner}${hash}`;
}

/** Stable CloudFormation stack names derived from the spec's names. */
export function stackName(zone: string, environment: string, part: string): string {
  return physicalName("stack", zone, environment, part);
}

/** PascalCase form of a kebab-case name, for construct IDs (`order-history` → `OrderHistory`). */
export function pascalCase(name: string): string {
  return name
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join("");
}

/** What Pulumi's autonaming appends to a logical name: "-" and 7 random characters. */
export const PULUMI_AUTONAME_SUFFIX_LENGTH = 8;

/**
 * A physical name for a resource whose Pulumi autoname (`<logical name>-<7 random>`) would pass the
 * cloud's limit for `kind`, which the provider refuses: the logical name cut to fit, ending in a hash
 * of it, the project and the stack, so the stacks of one project in one account stay apart. Undefined
 * where the autoname fits, so resources that deploy today keep autonaming and their names.
 */
export function fittedAutoname(kind: NameKind, logicalName: string, project: string, stack: string): string | undefined {
  if (logicalName.length + PULUMI_AUTONAME_SUFFIX_LENGTH <= NAME_RULES[kind].maxLength) return undefined;
  return physicalName(kind, logicalName, project, stack);
}
