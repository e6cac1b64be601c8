import { Aspects, Stack, Validations, type Acknowledgment, aws_iam as iam, aws_kms as kms, aws_lambda as lambda, custom_resources as cr, type Stage } from "aws-cdk-lib";
import { createRequire } from "node:module";
// The aspect alone, from its own module: cdk-nag's index loads every pack's ~270 rule modules (~150 ms of CPU).
import { WriteNagSuppressionsToCloudFormationAspect } from "cdk-nag/lib/nag-pack.js";
// cdk-nag renders tokens in finding ids with this function; acknowledgements must render them the same way.
import { flattenCfnReference } from "cdk-nag/lib/utils/flatten-cfn-reference.js";
import type { IConstruct } from "constructs";
import { encryptLogGroup } from "./log-key.js";

const requireHere = createRequire(import.meta.url);

/** The cdk-nag packs every landing zone is checked against, by the plugin name its findings carry. */
export const COMPLIANCE_PACKS = ["AwsSolutions", "NIST.800.53.R5"] as const;

export interface CompliancePacksOptions {
  /**
   * Run the packs when the app synthesizes. `false` only writes the acknowledgements into the
   * templates, so a synthesis that skips the checks (a plan, a diff) still writes the same templates.
   * @default true
   */
  readonly check?: boolean;
  /**
   * Explain each finding (why the rule exists) in the report.
   * @default false
   */
  readonly verbose?: boolean;
}

/**
 * Checks every resource of `app` against cdk-nag's AWS Solutions and NIST 800-53 rev 5 packs when it
 * synthesizes, the cdk-nag v3 way (validation plugins), and writes every acknowledgement with its
 * reason into the resource's CloudFormation metadata (`Metadata.cdk_nag.rules_to_suppress`), where
 * reviewers and external compliance tools see each exception. A finding nobody acknowledged fails
 * synthesis (errors always; warnings too under `@aws-cdk/core:strictCfnValidateErrors`, which
 * `LANDING_ZONE_APP_CONTEXT` turns on). Acknowledge one finding on the one construct it concerns:
 * `Validations.of(construct).acknowledge({ id: "AwsSolutions::AwsSolutions-S1", reason })`.
 *
 * @example
 * const app = new App({ context: LANDING_ZONE_APP_CONTEXT });
 * new LandingZone(app, "Shop", { spec });
 * addCompliancePacks(app);
 * app.synth(); // throws, listing each unacknowledged finding by rule id and construct path
 */
export function addCompliancePacks(app: Stage, options: CompliancePacksOptions = {}): void {
  if (options.check === false) {
    Aspects.of(app).add(new WriteNagSuppressionsToCloudFormationAspect());
    return;
  }
  const verbose = options.verbose ?? false;
  // Loaded only when checks run (synchronously, as CDK apps are built): a synthesis without checks needs no rule.
  const { AwsSolutionsChecks, NIST80053R5Checks } = requireHere("cdk-nag") as typeof import("cdk-nag");
  // One aspect writes every acknowledgement, whichever pack or plugin it is for.
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app, { verbose, writeSuppressionsToCloudFormation: true }), new NIST80053R5Checks(app, { verbose }));
}

/**
 * A value as cdk-nag names it inside a finding id (`AwsSolutions-IAM5[Resource::<value>]`): tokens
 * become `<LogicalId.Attribute>`, `<AWS::AccountId>` and the like. Use it to acknowledge a wildcard
 * resource whose ARN is built from tokens.
 *
 * @example
 * Validations.of(role).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[Resource::${nagValue(role, `${bucket.bucketArn}/*`)}]`, reason });
 */
export function nagValue(scope: IConstruct, value: string): string {
  return flattenCfnReference(Stack.of(scope).resolve(value));
}

/**
 * `Validations.of(scope).acknowledge(...rules)`, without the call stack CDK records with each
 * acknowledgement when the app turns stack traces off (`aws:cdk:disable-stack-trace`, as `mlz synth`
 * does): capturing one costs ~0.1 ms per call, and the trace would still land in the assembly's
 * metadata files (CDK's one-line "no user code" note takes its place). With stack traces on, it is
 * exactly `Validations.acknowledge`.
 *
 * @example
 * acknowledge(secret, { id: "AwsSolutions::AwsSolutions-SMG4", reason: "the team rotates it" });
 */
export function acknowledge(scope: IConstruct, ...rules: Acknowledgment[]): void {
  if (scope.node.tryGetContext("aws:cdk:disable-stack-trace") !== true) {
    Validations.of(scope).acknowledge(...rules);
    return;
  }
  const limit = Error.stackTraceLimit;
  // CDK records the trace it captures whatever the setting; an empty capture records its one-line note instead.
  Error.stackTraceLimit = 0;
  try {
    Validations.of(scope).acknowledge(...rules);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

/**
 * Acknowledges NIST 800-53 rev 5's IAMNoInlinePolicy on one role: CDK writes a role's grants into an
 * inline policy of that role alone, the one-to-one use AWS recommends inline policies for, and moves
 * them to managed policies itself when they outgrow the inline quota.
 */
export function acknowledgeInlinePolicy(role: IConstruct, holder: string): void {
  acknowledge(role, {
    id: "NIST.800.53.R5::NIST.800.53.R5-IAMNoInlinePolicy",
    reason: `The permissions of ${holder} are written for this role alone and deleted with it, never attached elsewhere: AWS's recommended use of inline policies (CDK moves overflow past the inline quota to managed policies).`,
  });
}

/** What each AWS-managed policy the landing zone attaches (or CDK attaches for it) lets its role do. */
const AWS_MANAGED_POLICY_PURPOSES: Readonly<Record<string, string>> = {
  AWSLambdaBasicExecutionRole: "write the function's own CloudWatch logs, nothing else",
  AWSLambdaVPCAccessExecutionRole: "create and delete the network interfaces that place the function in the VPC",
  AmazonEC2ContainerRegistryReadOnly: "pull images and OCI charts from ECR, read-only",
  AmazonElasticContainerRegistryPublicReadOnly: "pull public OCI charts from ECR Public, read-only",
  AmazonEKSClusterPolicy: "let the EKS control plane manage the cluster's network interfaces and security groups",
  AmazonEKSWorkerNodePolicy: "let nodes join the cluster and describe their own instances",
  AmazonEKS_CNI_Policy: "let the VPC CNI give pods addresses from the VPC",
  AmazonSSMManagedInstanceCore: "let Session Manager reach the instances instead of SSH keys and open ports",
  AWSElasticBeanstalkWebTier: "let Beanstalk instances upload their logs and report health to the environment",
  AWSElasticBeanstalkEnhancedHealth: "let Beanstalk read the environment's instances and load balancer for enhanced health",
  AWSElasticBeanstalkManagedUpdatesCustomerRolePolicy: "let Beanstalk apply the managed platform updates the environment opts into",
  AmazonRDSEnhancedMonitoringRole: "publish the instance's operating-system metrics to CloudWatch Logs",
};

/**
 * Acknowledges AWS Solutions' IAM4 (AWS-managed policy) on one role, for each AWS-managed policy it
 * carries whose purpose is known: these are the policies the service's own documentation requires,
 * and AWS keeps them current as the service's API changes. An unknown policy stays reported.
 */
export function acknowledgeAwsManagedPolicies(role: iam.IRole, holder: string): void {
  const resource = role.node.defaultChild as iam.CfnRole | undefined;
  const arns = resource ? (Stack.of(role).resolve(resource.managedPolicyArns) as unknown[] | undefined) : undefined;
  for (const arn of arns ?? []) {
    const rendered = flattenCfnReference(arn);
    const name = Object.keys(AWS_MANAGED_POLICY_PURPOSES).find((n) => rendered.includes(`:iam::aws:policy/${n}`) || rendered.includes(`:iam::aws:policy/service-role/${n}`));
    if (!name) continue;
    acknowledge(role, {
      id: `AwsSolutions::AwsSolutions-IAM4[Policy::${rendered}]`,
      reason: `${name} (on ${holder}) exists to ${AWS_MANAGED_POLICY_PURPOSES[name]}; it is the policy AWS documents for this use, and AWS keeps it current as the service changes.`,
    });
  }
}

/** Id CDK gives the function behind every `AwsCustomResource` of a stack: one singleton per stack. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = `AWS${cr.AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, "")}`;

/** The singleton function CDK runs for the `AwsCustomResource`s of `scope`'s stack, if it has any. */
export function awsCustomResourceProvider(scope: IConstruct): lambda.Function | undefined {
  const found = Stack.of(scope).node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
  return found instanceof lambda.Function ? found : undefined;
}

/**
 * Makes a function that CDK generates for a custom resource (a provider, kubectl's handler) as
 * compliant as it allows: its log group encrypted with `logKey`, and the findings CDK leaves no way
 * to fix acknowledged on that function alone. Such a function runs only while CloudFormation deploys
 * the stack, answering each event on CloudFormation's response URL.
 */
export function hardenProviderFunction(fn: lambda.Function, purpose: string, logKey: kms.IKey): void {
  encryptLogGroup(fn.node.tryFindChild("LogGroup") as lambda.Function["logGroup"] | undefined, logKey);
  const inVpc = (fn.node.defaultChild as lambda.CfnFunction).vpcConfig !== undefined;
  acknowledge(
    fn.node.defaultChild!,
    {
      id: "NIST.800.53.R5::NIST.800.53.R5-LambdaConcurrency",
      reason: `${purpose} runs only while CloudFormation deploys the stack, one call per resource event; reserving concurrency would only withhold capacity from the account's other functions.`,
    },
    {
      id: "NIST.800.53.R5::NIST.800.53.R5-LambdaDLQ",
      reason: `${purpose} answers each event on CloudFormation's presigned response URL, and a failure fails the deployment visibly; a dead-letter queue would keep events nothing could replay.`,
    },
    ...(inVpc
      ? []
      : [
          {
            id: "NIST.800.53.R5::NIST.800.53.R5-LambdaInsideVPC",
            reason: `${purpose} calls only AWS control-plane APIs, never a resource inside the VPC; CDK builds it outside any VPC and offers no option to move it.`,
          },
        ]),
  );
  if (fn.role) acknowledgeAwsManagedPolicies(fn.role, purpose);
}

/**
 * Acknowledges AWS Solutions' IAM5 for the wildcards that CDK's own grants wrote into a policy (a
 * role's default policy, or the policy itself), those `matches` selects, with one reason. Call it once
 * the grants are made; a wildcard it does not select stays reported.
 */
export function acknowledgeGrantWildcards(holder: iam.IRole | iam.Policy, matches: (finding: string) => boolean, reason: string): void {
  const policy = holder instanceof iam.Policy ? holder : holder.node.tryFindChild("DefaultPolicy");
  if (!(policy instanceof iam.Policy)) return;
  const document = Stack.of(policy).resolve(policy.document) as { Statement?: readonly { Action?: unknown; Resource?: unknown }[] } | undefined;
  const findings = new Set<string>();
  for (const statement of document?.Statement ?? []) {
    for (const action of ([] as unknown[]).concat(statement.Action ?? [])) if (typeof action === "string" && action.includes("*")) findings.add(`Action::${action}`);
    for (const resource of ([] as unknown[]).concat(statement.Resource ?? [])) {
      const rendered = flattenCfnReference(resource);
      if (rendered.includes("*")) findings.add(`Resource::${rendered}`);
    }
  }
  for (const finding of [...findings].filter(matches)) acknowledge(holder, { id: `AwsSolutions::AwsSolutions-IAM5[${finding}]`, reason });
}
