import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import program from "../../bin/pulumi.js";
import { synthesizeLandingZone } from "../../lib/cli/synthesize.js";
import { isStatefulCloudFormationResource, isStatefulPulumiType } from "../../lib/plan/stateful.js";
import { loadSpecFile } from "../../lib/spec/parse.js";
import { runProgram } from "../pulumi/harness.js";

/**
 * The identities that must never change under a user's feet: the logical IDs (CDK) and URNs (Pulumi)
 * of every resource holding data, and of what a database's identity hangs on (its subnet group,
 * parameter group and secret keep theirs too, or the database is replaced).
 */

/** Resource types whose replacement replaces the data store that names them. */
const ANCHOR_CLOUDFORMATION_TYPES = new Set([
  "AWS::RDS::DBSubnetGroup",
  "AWS::RDS::DBParameterGroup",
  "AWS::RDS::DBClusterParameterGroup",
  "AWS::ElastiCache::SubnetGroup",
  "AWS::ElastiCache::ParameterGroup",
  "AWS::EC2::VPC",
]);
const ANCHOR_PULUMI_TYPES = new Set([
  "aws:rds/subnetGroup:SubnetGroup",
  "aws:rds/parameterGroup:ParameterGroup",
  "aws:elasticache/subnetGroup:SubnetGroup",
  "aws:ec2/vpc:Vpc",
  // A private-IP data store on GCP hangs on its network, its private service range and the key ring of its keys.
  "gcp:compute/network:Network",
  "gcp:compute/globalAddress:GlobalAddress",
  "gcp:kms/keyRing:KeyRing",
]);
/** Kubernetes kinds that own volumes or data: replacing the resource that applies them deletes the data. */
const STATEFUL_KINDS = new Set(["StatefulSet", "PersistentVolumeClaim", "Kafka", "KafkaNodePool", "KafkaTopic", "Elasticsearch", "Cluster", "MariaDB", "Database"]);

function appliesStatefulObjects(type: string, inputs: Record<string, unknown>): boolean {
  if (type !== "kubernetes:yaml/v2:ConfigGroup") return type === "kubernetes:core/v1:PersistentVolumeClaim" || type === "kubernetes:apps/v1:StatefulSet";
  return ((inputs["objs"] as { kind?: string }[] | undefined) ?? []).some((o) => STATEFUL_KINDS.has(String(o.kind)));
}

export const GOLDEN_DIR = "test/golden";

/** Every example, by folder name. */
export function examples(): { name: string; file: string; cloud: string }[] {
  return readdirSync("examples", { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .map((e) => ({ name: e.name, file: `examples/${e.name}/landing-zone.yaml` }))
    .map((e) => ({ ...e, cloud: loadSpecFile(e.file).cloud }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

export type Templates = Map<string, { Resources?: Record<string, { Type: string; DeletionPolicy?: unknown }> }>;

/** The example's CDK templates by stack name (validation off: the e2e tests validate). */
export function cdkTemplates(file: string): Templates {
  const outdir = mkdtempSync(join(tmpdir(), "mlz-golden-"));
  try {
    synthesizeLandingZone(loadSpecFile(file), outdir, { validate: false });
    const manifest = JSON.parse(readFileSync(join(outdir, "manifest.json"), "utf8")) as { artifacts: Record<string, { type: string; properties?: { templateFile?: string; stackName?: string } }> };
    return new Map(
      Object.values(manifest.artifacts)
        .filter((a) => a.type === "aws:cloudformation:stack")
        .map((a) => [a.properties!.stackName!, JSON.parse(readFileSync(join(outdir, a.properties!.templateFile!), "utf8"))]),
    );
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** `<stack>/<logicalId> <type>` of every stateful or anchoring resource, sorted. */
export function cdkIdentities(templates: Templates): string[] {
  const ids: string[] = [];
  for (const [stack, template] of templates) {
    for (const [id, resource] of Object.entries(template.Resources ?? {})) {
      if (isStatefulCloudFormationResource(resource.Type, resource.DeletionPolicy) || ANCHOR_CLOUDFORMATION_TYPES.has(resource.Type)) ids.push(`${stack}/${id} ${resource.Type}`);
    }
  }
  return ids.sort();
}

/** URNs (as `pulumi stack` shows them, stack and project aside) of every stateful or anchoring resource, sorted. */
export async function pulumiIdentities(file: string): Promise<string[]> {
  const { resources } = await runProgram(async () => void (await program()), { config: { "msa:spec": file } });
  const byName = new Map(resources.map((r) => [`${r.type}::${r.name}`, r]));
  const typeChain = (r: (typeof resources)[number]): string => {
    const parent = r.parent && r.parentType ? byName.get(`${r.parentType}::${r.parent}`) : undefined;
    return parent ? `${typeChain(parent)}$${r.type}` : r.type;
  };
  return resources
    .filter((r) => isStatefulPulumiType(r.type) || ANCHOR_PULUMI_TYPES.has(r.type) || appliesStatefulObjects(r.type, r.inputs))
    .map((r) => `${typeChain(r)}::${r.name}`)
    .sort();
}
