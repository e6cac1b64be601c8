import * as pulumi from "@pulumi/pulumi";
import { fittedAutoname, type NameKind } from "../../plan/naming.js";

/** The AWS resources whose names are short enough for a long zone and service name to break an autoname: the input naming each, and its rule. */
export const AWS_AUTONAMED: Readonly<Record<string, { readonly property: string; readonly kind: NameKind }>> = {
  "aws:iam/role:Role": { property: "name", kind: "iamRole" },
  "aws:sqs/queue:Queue": { property: "name", kind: "queue" },
  "aws:s3/bucket:Bucket": { property: "bucket", kind: "bucket" },
  "aws:elasticache/replicationGroup:ReplicationGroup": { property: "replicationGroupId", kind: "elasticache" },
  "aws:pipes/pipe:Pipe": { property: "name", kind: "pipe" },
  "aws:lambda/function:Function": { property: "name", kind: "pipe" },
  "aws:cloudwatch/eventRule:EventRule": { property: "name", kind: "pipe" },
};

/**
 * A resource transformation giving each resource of {@link AWS_AUTONAMED} that has no name of its own
 * a fitted one where its autoname would pass AWS's limit (`fittedAutoname`): a zone and service
 * name the spec allows must not fail `pulumi up`. The AWS `LandingZone` applies it to everything it
 * creates; pass it in `transformations` when using the components on their own with long names.
 */
export const fitAwsAutonames: pulumi.ResourceTransformation = ({ type, name, props, opts }) => {
  const rule = AWS_AUTONAMED[type];
  if (!rule || props[rule.property] !== undefined || props[`${rule.property}Prefix`] !== undefined) return undefined;
  const fitted = fittedAutoname(rule.kind, name, pulumi.getProject(), pulumi.getStack());
  return fitted === undefined ? undefined : { props: { ...props, [rule.property]: fitted }, opts };
};
