import { CfnParameter, Fn, Stack, Validations, aws_ec2 as ec2, aws_ssm as ssm } from "aws-cdk-lib";
import type { Construct } from "constructs";
import type { LandingZonePlan } from "../lib/plan/types.js";

/**
 * SSM parameter names under which shared stacks publish what service stacks read at deploy time
 * (`/msa/<name>/<env>/...`), so a shared stack can change without being pinned by exports.
 */
export const sharedParameters = {
  vpcId: (plan: LandingZonePlan) => parameterName(plan, "network", "vpc-id"),
  /** Comma-separated, in zone order. */
  privateSubnetIds: (plan: LandingZonePlan) => parameterName(plan, "network", "private-subnet-ids"),
  /** The zone's key for CloudWatch log groups (the flow-log key). */
  logKeyArn: (plan: LandingZonePlan) => parameterName(plan, "network", "log-key-arn"),
  clusterName: (plan: LandingZonePlan) => parameterName(plan, "platform", "cluster-name"),
  kubectlServiceToken: (plan: LandingZonePlan) => parameterName(plan, "platform", "kubectl-service-token"),
  kubectlRoleArn: (plan: LandingZonePlan) => parameterName(plan, "platform", "kubectl-role-arn"),
  workloadSecurityGroupId: (plan: LandingZonePlan) => parameterName(plan, "platform", "workload-security-group-id"),
  discoveryNamespaceId: (plan: LandingZonePlan) => parameterName(plan, "discovery", "namespace-id"),
  discoveryHostedZoneId: (plan: LandingZonePlan) => parameterName(plan, "discovery", "hosted-zone-id"),
  paasServiceRoleArn: (plan: LandingZonePlan) => parameterName(plan, "platform", "beanstalk-service-role-arn"),
  gatewayApiId: (plan: LandingZonePlan) => parameterName(plan, "gateway", "api-id"),
  gatewayAuthorizerId: (plan: LandingZonePlan) => parameterName(plan, "gateway", "authorizer-id"),
  gatewaySecurityGroupId: (plan: LandingZonePlan) => parameterName(plan, "gateway", "load-balancer-security-group-id"),
  gatewayLoadBalancerArn: (plan: LandingZonePlan, index: number) => parameterName(plan, "gateway", "load-balancers", String(index), "arn"),
  gatewayListenerArn: (plan: LandingZonePlan, index: number) => parameterName(plan, "gateway", "load-balancers", String(index), "listener-arn"),
  gatewayIntegrationId: (plan: LandingZonePlan, index: number) => parameterName(plan, "gateway", "load-balancers", String(index), "integration-id"),
  /** CloudWatch's dimension value of a gateway load balancer (`app/<name>/<id>`). */
  gatewayLoadBalancerMetricName: (plan: LandingZonePlan, index: number) => parameterName(plan, "gateway", "load-balancers", String(index), "metric-name"),
  logBufferHost: (plan: LandingZonePlan) => parameterName(plan, "logging", "buffer-host"),
  logBufferSecretArn: (plan: LandingZonePlan) => parameterName(plan, "logging", "buffer-secret-arn"),
  topicArn: (plan: LandingZonePlan, event: string) => parameterName(plan, "messaging", "topics", event),
  brokerKeyArn: (plan: LandingZonePlan) => parameterName(plan, "messaging", "key-arn"),
  eventBusArn: (plan: LandingZonePlan) => parameterName(plan, "messaging", "event-bus-arn"),
  isolatedSubnetId: (plan: LandingZonePlan, index: number) => parameterName(plan, "network", "isolated-subnets", String(index)),
  sagaKeyArn: (plan: LandingZonePlan) => parameterName(plan, "sagas", "key-arn"),
  sagaStateMachineArn: (plan: LandingZonePlan, saga: string) => parameterName(plan, "sagas", saga, "state-machine-arn"),
  sagaQueueArn: (plan: LandingZonePlan, saga: string, service: string) => parameterName(plan, "sagas", saga, "queues", service),
  sagaQueueUrl: (plan: LandingZonePlan, saga: string, service: string) => parameterName(plan, "sagas", saga, "queue-urls", service),
  connectionArn: (plan: LandingZonePlan) => parameterName(plan, "delivery", "connection-arn"),
  githubOidcProviderArn: (plan: LandingZonePlan) => parameterName(plan, "delivery", "github-oidc-provider-arn"),
  sessionEndpoint: (plan: LandingZonePlan) => parameterName(plan, "sessions", "endpoint"),
  sessionPort: (plan: LandingZonePlan) => parameterName(plan, "sessions", "port"),
  sessionAuthTokenArn: (plan: LandingZonePlan) => parameterName(plan, "sessions", "auth-token-arn"),
  alarmTopicArn: (plan: LandingZonePlan) => parameterName(plan, "observability", "alarm-topic-arn"),
} as const;

function parameterName(plan: LandingZonePlan, ...path: readonly string[]): string {
  return `/msa/${plan.name}/${plan.environment}/${path.join("/")}`;
}

/** The id `ssm.StringParameter.valueForStringParameter` gives its import in a stack (CDK's `makeIdentityForImportedValue`). */
const importedValueId = (name: string) => `SsmParameterValue:${name}:C96584B6-F00A-464E-AD19-53AFF4B05118`;

/**
 * The value of an SSM parameter, resolved by CloudFormation at every deploy of the stack: the same
 * `AWS::SSM::Parameter::Value<String>` template parameter, with the same logical ID, as
 * `ssm.StringParameter.valueForStringParameter`, one per stack and name. It skips the imported
 * parameter construct CDK builds around it, which nothing here uses: a service stack reads a dozen
 * values, so that is a dozen constructs fewer per service to build and synthesize.
 */
export function readParameter(scope: Construct, name: string): string {
  const stack = Stack.of(scope);
  const id = importedValueId(name);
  // Reuse a read made through CDK's own helper (say, by a user extending the stack) rather than collide with it.
  const viaCdk = stack.node.tryFindChild(id) as ssm.IStringParameter | undefined;
  if (viaCdk) return viaCdk.stringValue;
  const existing = stack.node.tryFindChild(`${id}.Parameter`) as CfnParameter | undefined;
  return (existing ?? new CfnParameter(stack, `${id}.Parameter`, { type: "AWS::SSM::Parameter::Value<String>", default: name })).valueAsString;
}

/**
 * The landing zone's VPC and private subnets, read from the network stack's parameters at deploy
 * time, for a stack that only places network interfaces in them (`reason` says so to the
 * route-table annotation CDK raises for subnets imported by id).
 */
export function importPrivateVpc(scope: Construct, plan: LandingZonePlan, reason: string): ec2.IVpc {
  const read = (name: string) => readParameter(scope, name);
  const zones = plan.network.availabilityZones;
  const vpc = ec2.Vpc.fromVpcAttributes(scope, "Vpc", {
    vpcId: read(sharedParameters.vpcId(plan)),
    availabilityZones: [...zones],
    privateSubnetIds: Fn.split(",", read(sharedParameters.privateSubnetIds(plan)), zones.length),
  });
  Validations.of(vpc).acknowledge({ id: "Annotation::@aws-cdk/aws-ec2:noSubnetRouteTableId", reason });
  return vpc;
}
