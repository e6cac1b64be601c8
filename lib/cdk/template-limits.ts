import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DefaultStackSynthesizer, type DefaultStackSynthesizerProps, type FileAssetSource, type ISynthesisSession } from "aws-cdk-lib";

/** CloudFormation's per-template quotas that a growing landing zone can reach. */
export const CLOUDFORMATION_LIMITS = {
  resources: 500,
  outputs: 200,
  parameters: 200,
  /** `{{resolve:...}}` dynamic references. */
  dynamicReferences: 60,
  /** Bytes of the template file CloudFormation receives. */
  templateBytes: 1_000_000,
} as const;

export type TemplateLimit = keyof typeof CLOUDFORMATION_LIMITS;

/** Synthesis fails at this share of a limit, leaving room for the next services before a deploy would fail. */
export const TEMPLATE_LIMIT_THRESHOLD = 0.8;

/** How much of each limit a template uses, and the CloudFormation exports it imports. */
export interface TemplateUsage {
  /** Resources in the template. */
  readonly resources: number;
  /** Outputs in the template. */
  readonly outputs: number;
  /** Parameters, SSM parameter reads included. */
  readonly parameters: number;
  /** `{{resolve:...}}` dynamic references. */
  readonly dynamicReferences: number;
  /** Bytes of the template text. */
  readonly templateBytes: number;
  /** `Fn::ImportValue` uses. */
  readonly imports: number;
}

const FIXES: Readonly<Record<TemplateLimit, string>> = {
  resources: "move per-service resources into the services' own stacks, or split the shared part that grew into a stack of its own",
  outputs: "publish shared values as SSM parameters (as the landing zone's stacks do) instead of outputs",
  parameters: "read fewer SSM parameters in this stack: group values one service needs into fewer parameters",
  dynamicReferences: "reference fewer secrets in this stack: give each service its secrets in its own stack",
  templateBytes: "split the stack, or move large inline documents (policies, user data) into assets",
};

/** Measures a synthesized template (the JSON text CloudFormation receives). */
export function templateUsage(templateText: string): TemplateUsage {
  const template = JSON.parse(templateText) as { Resources?: object; Outputs?: object; Parameters?: object };
  return {
    resources: Object.keys(template.Resources ?? {}).length,
    outputs: Object.keys(template.Outputs ?? {}).length,
    parameters: Object.keys(template.Parameters ?? {}).length,
    dynamicReferences: (templateText.match(/\{\{resolve:/g) ?? []).length,
    templateBytes: Buffer.byteLength(templateText, "utf8"),
    imports: (templateText.match(/"Fn::ImportValue"/g) ?? []).length,
  };
}

/** Every limit the template is at `threshold` of or above, and any import a stack must not have, with the fix. */
export function templateLimitProblems(stackName: string, usage: TemplateUsage, options: { readonly forbidImports?: boolean; readonly threshold?: number } = {}): string[] {
  const threshold = options.threshold ?? TEMPLATE_LIMIT_THRESHOLD;
  const problems: string[] = [];
  for (const [limit, max] of Object.entries(CLOUDFORMATION_LIMITS) as [TemplateLimit, number][]) {
    if (usage[limit] >= max * threshold) {
      problems.push(`${stackName}: ${usage[limit]} ${limit} reach ${Math.round(threshold * 100)}% of CloudFormation's limit of ${max}. Fix: ${FIXES[limit]}`);
    }
  }
  if (options.forbidImports && usage.imports > 0) {
    problems.push(`${stackName}: imports ${usage.imports} CloudFormation export(s), which would pin the exporting stack. Fix: read the value from its SSM parameter`);
  }
  return problems;
}

export interface TemplateLimitsSynthesizerProps extends DefaultStackSynthesizerProps {
  /**
   * Fail when the template imports a CloudFormation export (service stacks read SSM parameters).
   * @default false
   */
  readonly forbidImports?: boolean;
  /**
   * Share of a limit at which synthesis fails.
   * @default TEMPLATE_LIMIT_THRESHOLD (0.8)
   */
  readonly threshold?: number;
}

/**
 * The default synthesizer, plus a check of the written template against CloudFormation's limits:
 * synthesis fails with the stack, the count and the fix once a template reaches 80% of a limit,
 * so a landing zone that grows is split by design before a deployment would fail.
 *
 * @example
 * new Stack(app, "Orders", { synthesizer: new TemplateLimitsSynthesizer({ forbidImports: true }) });
 */
export class TemplateLimitsSynthesizer extends DefaultStackSynthesizer {
  private readonly forbidImports: boolean;
  private readonly threshold: number;

  constructor(props: TemplateLimitsSynthesizerProps = {}) {
    const { forbidImports, threshold, ...synthesizerProps } = props;
    super(synthesizerProps);
    this.forbidImports = forbidImports ?? false;
    this.threshold = threshold ?? TEMPLATE_LIMIT_THRESHOLD;
  }

  protected override synthesizeTemplate(session: ISynthesisSession, lookupRoleArn?: string, lookupRoleExternalId?: string, lookupRoleAdditionalOptions?: { [key: string]: unknown }): FileAssetSource {
    const source = super.synthesizeTemplate(session, lookupRoleArn, lookupRoleExternalId, lookupRoleAdditionalOptions);
    const stack = this.boundStack;
    const usage = templateUsage(readFileSync(join(session.outdir, stack.templateFile), "utf8"));
    const problems = templateLimitProblems(stack.stackName, usage, { forbidImports: this.forbidImports, threshold: this.threshold });
    if (problems.length > 0) throw new Error(["Template over CloudFormation's limits:", ...problems.map((p) => `  - ${p}`)].join("\n"));
    return source;
  }
}
