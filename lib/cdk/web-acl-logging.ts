import { ArnFormat, Names, RemovalPolicy, Stack, aws_kms as kms, aws_logs as logs, aws_wafv2 as wafv2 } from "aws-cdk-lib";
import { Construct } from "constructs";
import { WAF_LOGGING } from "../plan/waf.js";

export interface WebAclLoggingProps {
  /** The web ACL whose requests are logged. */
  readonly webAcl: wafv2.CfnWebACL;
  /** KMS key of the log group; CloudWatch Logs must be allowed to use it (`createLogKey`). */
  readonly encryptionKey: kms.IKey;
  /**
   * Days the log group keeps records.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly retention?: logs.RetentionDays;
  /**
   * Name of the log group; WAF requires the `aws-waf-logs-` prefix.
   * @default - `aws-waf-logs-` and a name unique to this construct's path
   */
  readonly logGroupName?: string;
  /**
   * What happens to the log group when the stack deletes it.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * WAF logging for one web ACL: the requests it blocked or counted, with the Authorization and Cookie
 * headers redacted, into a KMS-encrypted CloudWatch log group. Cost note: CloudWatch Logs bills
 * ingestion and storage per GB, here for blocked and counted requests only.
 *
 * @example
 * new WebAclLogging(stack, "WebAclLogs", { webAcl, encryptionKey: createLogKey(stack, "LogKey", { description: "WAF logs" }) });
 */
export class WebAclLogging extends Construct {
  readonly logGroup: logs.LogGroup;
  readonly configuration: wafv2.CfnLoggingConfiguration;

  constructor(scope: Construct, id: string, props: WebAclLoggingProps) {
    super(scope, id);
    const logGroupName = props.logGroupName ?? `${WAF_LOGGING.logGroupPrefix}${Names.uniqueResourceName(this, { maxLength: 200 })}`;
    if (!logGroupName.startsWith(WAF_LOGGING.logGroupPrefix)) {
      throw new Error(`WebAclLogging: logGroupName "${logGroupName}" does not start with "${WAF_LOGGING.logGroupPrefix}", which WAF requires. Fix: name it ${WAF_LOGGING.logGroupPrefix}<name>`);
    }
    this.logGroup = new logs.LogGroup(this, "LogGroup", {
      logGroupName,
      encryptionKey: props.encryptionKey,
      retention: props.retention ?? logs.RetentionDays.ONE_YEAR,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.configuration = new wafv2.CfnLoggingConfiguration(this, "Resource", {
      resourceArn: props.webAcl.attrArn,
      // WAF takes the log group's ARN without the `:*` that LogGroup.logGroupArn ends with.
      logDestinationConfigs: [Stack.of(this).formatArn({ service: "logs", resource: "log-group", resourceName: logGroupName, arnFormat: ArnFormat.COLON_RESOURCE_NAME })],
      redactedFields: WAF_LOGGING.redactedHeaders.map((name) => ({ singleHeader: { Name: name } })),
      loggingFilter: {
        DefaultBehavior: "DROP",
        Filters: [{ Behavior: "KEEP", Requirement: "MEETS_ANY", Conditions: WAF_LOGGING.keptActions.map((action) => ({ ActionCondition: { Action: action } })) }],
      },
    });
    this.configuration.node.addDependency(this.logGroup);
  }
}
