import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** How {@link privateBucket} encrypts, logs, versions and expires objects. */
export interface PrivateBucketOptions {
  /** KMS key ARN; S3-managed keys when undefined. */
  readonly kmsKeyArn?: pulumi.Input<string>;
  readonly versioned?: boolean;
  /** Server access logs into this bucket under this prefix. */
  readonly accessLogs?: { readonly bucket: pulumi.Input<string>; readonly prefix: string };
  /** Expire current objects after this many days. */
  readonly expirationDays?: number;
  /** Expire replaced versions after this many days. */
  readonly noncurrentExpirationDays?: number;
  /** `BucketOwnerPreferred` keeps ACLs for log deliveries that need them (CloudFront); default `BucketOwnerEnforced`. */
  readonly objectOwnership?: "BucketOwnerEnforced" | "BucketOwnerPreferred";
  /** Statements besides the TLS-only denial; they may name the bucket's ARN. */
  readonly statements?: BucketStatements;
  /** The caller adds the policy with {@link bucketPolicy} once what it names exists (a distribution). */
  readonly deferPolicy?: boolean;
  /** Protect and keep the bucket (prod). */
  readonly retain: boolean;
  readonly tags: Readonly<Record<string, string>>;
  readonly parent: pulumi.Resource;
}

/** Bucket policy statements, given the bucket's ARN. */
export type BucketStatements = (bucketArn: pulumi.Output<string>) => pulumi.Input<Record<string, unknown>>[];

export interface PrivateBucketNodes {
  readonly bucket: aws.s3.Bucket;
  readonly publicAccessBlock: aws.s3.BucketPublicAccessBlock;
  /** Undefined with `deferPolicy`. */
  readonly policy?: aws.s3.BucketPolicy;
}

/**
 * A bucket no one outside the account reads: every public access block on, owner-enforced (or
 * owner-preferred for log deliveries), encrypted, TLS-only, optionally versioned, logged and
 * expiring. Children are named `${name}-<part>` under `parent`.
 */
export function privateBucket(name: string, options: PrivateBucketOptions): PrivateBucketNodes {
  const parent = { parent: options.parent };
  const bucket = new aws.s3.Bucket(name, { forceDestroy: !options.retain, tags: { ...options.tags } }, { parent: options.parent, protect: options.retain, retainOnDelete: options.retain });
  const publicAccessBlock = new aws.s3.BucketPublicAccessBlock(`${name}-public-access`, { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: true, ignorePublicAcls: true, restrictPublicBuckets: true }, parent);
  new aws.s3.BucketOwnershipControls(`${name}-ownership`, { bucket: bucket.id, rule: { objectOwnership: options.objectOwnership ?? "BucketOwnerEnforced" } }, parent);
  new aws.s3.BucketServerSideEncryptionConfiguration(
    `${name}-encryption`,
    {
      bucket: bucket.id,
      rules: [
        options.kmsKeyArn
          ? { applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms", kmsMasterKeyId: options.kmsKeyArn }, bucketKeyEnabled: true }
          : { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } },
      ],
    },
    parent,
  );
  if (options.versioned) new aws.s3.BucketVersioning(`${name}-versioning`, { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } }, parent);
  if (options.accessLogs) new aws.s3.BucketLogging(`${name}-logging`, { bucket: bucket.id, targetBucket: options.accessLogs.bucket, targetPrefix: options.accessLogs.prefix }, parent);
  const rules: aws.types.input.s3.BucketLifecycleConfigurationRule[] = [
    ...(options.expirationDays ? [{ id: "expire", status: "Enabled", filter: {}, expiration: { days: options.expirationDays } }] : []),
    ...(options.noncurrentExpirationDays ? [{ id: "expire-replaced", status: "Enabled", filter: {}, noncurrentVersionExpiration: { noncurrentDays: options.noncurrentExpirationDays } }] : []),
  ];
  if (rules.length > 0) new aws.s3.BucketLifecycleConfiguration(`${name}-lifecycle`, { bucket: bucket.id, rules }, parent);
  const policy = options.deferPolicy ? undefined : bucketPolicy(name, { bucket, publicAccessBlock }, options.statements, options.parent);
  return { bucket, publicAccessBlock, ...(policy ? { policy } : {}) };
}

/** The bucket's policy: TLS only, plus `statements`. */
export function bucketPolicy(name: string, nodes: Pick<PrivateBucketNodes, "bucket" | "publicAccessBlock">, statements: BucketStatements | undefined, parent: pulumi.Resource): aws.s3.BucketPolicy {
  const { bucket } = nodes;
  return new aws.s3.BucketPolicy(
    `${name}-policy`,
    {
      bucket: bucket.id,
      policy: pulumi.jsonStringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: { AWS: "*" },
            Action: "s3:*",
            Resource: [bucket.arn, pulumi.interpolate`${bucket.arn}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
          ...(statements?.(bucket.arn) ?? []),
        ],
      }),
    },
    // A bucket policy is rejected while the public access block is still being applied.
    { parent, dependsOn: [nodes.publicAccessBlock] },
  );
}
