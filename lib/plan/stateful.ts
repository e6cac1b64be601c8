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

/** Pulumi type tokens of resources that hold data, per provider (the CloudFormation list's counterparts). */
export const STATEFUL_PULUMI_TYPES: ReadonlySet<string> = new Set([
  "aws:rds/instance:Instance",
  "aws:rds/cluster:Cluster",
  "aws:dynamodb/table:Table",
  "aws:elasticache/replicationGroup:ReplicationGroup",
  "aws:elasticache/cluster:Cluster",
  "aws:opensearch/domain:Domain",
  "aws:sqs/queue:Queue",
  "aws:s3/bucket:Bucket",
  "aws:s3/bucketV2:BucketV2",
  "aws:efs/fileSystem:FileSystem",
  "aws:ebs/volume:Volume",
  "aws:kinesis/stream:Stream",
  "aws:msk/cluster:Cluster",
  "aws:mq/broker:Broker",
  "aws:ecr/repository:Repository",
  "aws:kms/key:Key",
  "aws:secretsmanager/secret:Secret",
  "aws:cognito/userPool:UserPool",
  "aws:cloudwatch/logGroup:LogGroup",
  "gcp:redis/instance:Instance",
  "gcp:sql/databaseInstance:DatabaseInstance",
  "gcp:sql/database:Database",
  "gcp:firestore/database:Database",
  "gcp:pubsub/subscription:Subscription",
  "gcp:storage/bucket:Bucket",
  "gcp:artifactregistry/repository:Repository",
  "gcp:kms/cryptoKey:CryptoKey",
  "gcp:secretmanager/secret:Secret",
  "gcp:identityplatform/config:Config",
  "gcp:appengine/application:Application",
  // Azure (azure-native): caches, brokers with messages in flight, vaults and secrets, registries, log stores, databases.
  "azure-native:redis:Redis",
  "azure-native:servicebus:Namespace",
  "azure-native:servicebus:Topic",
  "azure-native:servicebus:Subscription",
  "azure-native:servicebus:Queue",
  "azure-native:keyvault:Vault",
  "azure-native:keyvault:Secret",
  "azure-native:containerregistry:Registry",
  "azure-native:storage:StorageAccount",
  "azure-native:operationalinsights:Workspace",
  "azure-native:appconfiguration:ConfigurationStore",
  "azure-native:dbforpostgresql:Server",
  "azure-native:cosmosdb:DatabaseAccount",
  "azure-native:eventhub:Namespace",
  "azure-native:eventhub:EventHub",
]);

export function isStatefulPulumiType(type: string): boolean {
  return STATEFUL_PULUMI_TYPES.has(type);
}
