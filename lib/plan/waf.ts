/** The web application firewall both AWS engines attach to the gateway's load balancers, as data. */

/** AWS managed rule groups, in evaluation order: common exploits, known bad inputs, addresses with a bad reputation. */
export const WAF_MANAGED_RULE_GROUPS = ["AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "AWSManagedRulesAmazonIpReputationList"] as const;

/** Name of the per-client rate rule. */
export const WAF_RATE_RULE = "RateLimitPerClient";

/** A per-client rate rule: requests from one address within the window, above which it is blocked. */
export interface WafRateLimit {
  readonly name: string;
  readonly limit: number;
  readonly evaluationWindowSec: number;
  /** The load balancers see the VPC link's address; the client is the first X-Forwarded-For entry. */
  readonly forwardedIpHeader: string;
}

/**
 * One client may send at most the gateway's steady rate over a minute (WAF's smallest window
 * is 60 s and its lowest limit 10); bursts are the stage throttle's business.
 */
export function wafRateLimit(rateLimit: { readonly requestsPerSecond: number }): WafRateLimit {
  return { name: WAF_RATE_RULE, limit: Math.max(10, rateLimit.requestsPerSecond * 60), evaluationWindowSec: 60, forwardedIpHeader: "X-Forwarded-For" };
}

/**
 * The per-client rate rule as both engines' web ACL rules take it (their `visibilityConfig` fields are
 * spelled differently, so each adds its own): it blocks an address past the limit, counting the
 * first X-Forwarded-For entry, and comes after the managed rule groups.
 */
export function wafRateRule(rate: WafRateLimit) {
  return {
    name: rate.name,
    priority: (WAF_MANAGED_RULE_GROUPS.length + 1) * 10,
    action: { block: {} },
    statement: {
      rateBasedStatement: {
        aggregateKeyType: "FORWARDED_IP",
        forwardedIpConfig: { headerName: rate.forwardedIpHeader, fallbackBehavior: "MATCH" },
        evaluationWindowSec: rate.evaluationWindowSec,
        limit: rate.limit,
      },
    },
  };
}

/**
 * What a web ACL logs: only the requests it blocked or counted (the gateway's access log already has
 * every request), to a CloudWatch log group whose name WAF requires to start with the prefix, with
 * the headers that carry credentials redacted.
 */
export const WAF_LOGGING = {
  logGroupPrefix: "aws-waf-logs-",
  keptActions: ["BLOCK", "COUNT"],
  redactedHeaders: ["authorization", "cookie"],
} as const;
