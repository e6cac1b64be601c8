import { RemovalPolicy, Stack, Token, aws_kms as kms, aws_logs as logs, aws_wafv2 as wafv2 } from "aws-cdk-lib";
import { Construct } from "constructs";
import { FRONTEND_WAF_MANAGED_RULES } from "../plan/frontends.js";
import { createLogKey } from "./log-key.js";
import { WebAclLogging } from "./web-acl-logging.js";

export interface EdgeWebAclProps {
  /**
   * Requests per client address per minute before the address is blocked.
   * @default 6000
   */
  readonly requestsPerMinute?: number;
  /**
   * CloudWatch metric name of the web ACL.
   * @default - the construct's path
   */
  readonly metricName?: string;
  /**
   * KMS key of the log group of blocked and counted requests (`WebAclLogging`); a key in us-east-1.
   * @default - a new key (`createLogKey`), billed monthly
   */
  readonly logEncryptionKey?: kms.IKey;
  /**
   * Days the web ACL's log group keeps records.
   * @default logs.RetentionDays.ONE_YEAR
   */
  readonly logRetention?: logs.RetentionDays;
  /**
   * What happens to the log group and its key when the stack deletes them.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A WAF web ACL for a CloudFront distribution: the AWS common and known-bad-inputs rule groups and a
 * per-client rate limit, logging the requests it blocks or counts. CloudFront reads web ACLs only from
 * us-east-1, so the stack must be there.
 *
 * Cost: WAF bills per web ACL, per rule and per million requests; CloudWatch Logs per GB logged.
 *
 * @example
 * const edge = new Stack(app, "Edge", { env: { region: "us-east-1" }, crossRegionReferences: true });
 * const acl = new EdgeWebAcl(edge, "WebAcl", { requestsPerMinute: 6000 });
 * new FrontendHosting(stack, "Frontends", { shell: "web", webAclArn: acl.webAclArn });
 */
export class EdgeWebAcl extends Construct {
  readonly webAcl: wafv2.CfnWebACL;
  readonly webAclArn: string;
  readonly logging: WebAclLogging;

  constructor(scope: Construct, id: string, props: EdgeWebAclProps = {}) {
    super(scope, id);
    const region = Stack.of(this).region;
    if (!Token.isUnresolved(region) && region !== "us-east-1") {
      throw new Error(`EdgeWebAcl: the stack's region is ${region}, but CloudFront web ACLs must be in us-east-1. Fix: create it in a stack with env.region us-east-1 (crossRegionReferences: true)`);
    }
    const requestsPerMinute = props.requestsPerMinute ?? 6000;
    if (!Number.isInteger(requestsPerMinute) || requestsPerMinute < 10) {
      throw new Error(`EdgeWebAcl: requestsPerMinute ${requestsPerMinute} is below WAF's minimum rate limit of 10. Fix: use an integer of 10 or more`);
    }
    const visibility = (metricName: string) => ({ cloudWatchMetricsEnabled: true, sampledRequestsEnabled: true, metricName });
    this.webAcl = new wafv2.CfnWebACL(this, "Resource", {
      scope: "CLOUDFRONT",
      defaultAction: { allow: {} },
      visibilityConfig: visibility(props.metricName ?? this.node.path.replace(/[^A-Za-z0-9-_]/g, "-").slice(-128)),
      rules: [
        ...FRONTEND_WAF_MANAGED_RULES.map((name, i) => ({
          name,
          priority: (i + 1) * 10,
          overrideAction: { none: {} },
          statement: { managedRuleGroupStatement: { vendorName: "AWS", name } },
          visibilityConfig: visibility(name),
        })),
        {
          name: "RateLimitPerClient",
          priority: (FRONTEND_WAF_MANAGED_RULES.length + 1) * 10,
          action: { block: {} },
          statement: { rateBasedStatement: { aggregateKeyType: "IP", evaluationWindowSec: 60, limit: requestsPerMinute } },
          visibilityConfig: visibility("RateLimitPerClient"),
        },
      ],
    });
    this.webAclArn = this.webAcl.attrArn;
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.logging = new WebAclLogging(this, "Logs", {
      webAcl: this.webAcl,
      encryptionKey: props.logEncryptionKey ?? createLogKey(this, "LogKey", { description: `Encrypts the WAF logs of ${this.node.path}`, removalPolicy }),
      ...(props.logRetention ? { retention: props.logRetention } : {}),
      removalPolicy,
    });
  }
}
