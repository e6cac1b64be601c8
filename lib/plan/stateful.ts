/**
 * Resource types that hold data a replacement or deletion would lose: databases, caches, search
 * domains, queues with messages in flight, buckets, streams, volumes, the keys that decrypt them,
 * user directories and secrets. Used by `mlz diff`, the stable-identity tests and the protection
 * checks, so "stateful" means the same everywhere.
 */
export const STATEFUL_CLOUDFORMATION_TYPES: ReadonlySet<string> = new Set([
  "AWS::RDS::DBInstance",
  "AWS::RDS::DBCluster",
  "AWS::DynamoDB::Table",
  "AWS::DynamoDB::GlobalTable",
  "AWS::ElastiCache::ReplicationGroup",
  "AWS::ElastiCache::CacheCluster",
  "AWS::ElastiCache::ServerlessCache",
  "AWS::OpenSearchService::Domain",
  "AWS::Elasticsearch::Domain",
  "AWS::SQS::Queue",
  "AWS::S3::Bucket",
  "AWS::EFS::FileSystem",
  "AWS::EC2::Volume",
  "AWS::Kinesis::Stream",
  "AWS::MSK::Cluster",
  "AWS::AmazonMQ::Broker",
  "AWS::ECR::Repository",
  "AWS::KMS::Key",
  "AWS::SecretsManager::Secret",
  "AWS::Cognito::UserPool",
  "AWS::Logs::LogGroup",
  "AWS::Events::Archive",
]);

/** A resource is stateful by its type, or because the template already retains it on deletion. */
export function isStatefulCloudFormationResource(type: string | undefined, deletionPolicy?: unknown): boolean {
  return (type !== undefined && STATEFUL_CLOUDFORMATION_TYPES.has(type)) || deletionPolicy === "Retain" || deletionPolicy === "Snapshot" || deletionPolicy === "RetainExceptOnCreate";
}
