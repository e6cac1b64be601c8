import { autonameFitter, type AutonamedTypes } from "../autonames.js";

/** The AWS resources whose names are short enough for a long zone and service name to break an autoname. */
export const AWS_AUTONAMED: AutonamedTypes = {
  "aws:iam/role:Role": { property: "name", kind: "iamRole" },
  "aws:sqs/queue:Queue": { property: "name", kind: "queue" },
  "aws:s3/bucket:Bucket": { property: "bucket", kind: "bucket" },
  "aws:elasticache/replicationGroup:ReplicationGroup": { property: "replicationGroupId", kind: "elasticache" },
  "aws:pipes/pipe:Pipe": { property: "name", kind: "pipe" },
  "aws:lambda/function:Function": { property: "name", kind: "pipe" },
  "aws:cloudwatch/eventRule:EventRule": { property: "name", kind: "pipe" },
};

/**
 * Gives the AWS resources of {@link AWS_AUTONAMED} without a name of their own a fitted one where
 * their autoname would pass AWS's limit. The AWS `LandingZone` applies it to everything it creates;
 * pass it in `transformations` when using the components on their own with long names.
 */
export const fitAwsAutonames = autonameFitter(AWS_AUTONAMED);
