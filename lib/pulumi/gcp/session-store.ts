import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { MEMORYSTORE_REDIS_VERSION } from "../../plan/gcp.js";
import type { RedisPlan } from "../../plan/types.js";

const TIERS = ["BASIC", "STANDARD_HA"] as const;
type MemorystoreTier = (typeof TIERS)[number];

/** Arguments of {@link SessionStore}. */
export interface SessionStoreArgs {
  /** Engine, tier (`nodeType`: BASIC or STANDARD_HA), memory and snapshots (`plan.sessions`). */
  readonly sessions: RedisPlan;
  /** Region of the instance. */
  readonly region: string;
  /** Zones of the region; the primary goes to the first, a STANDARD_HA replica to the second. */
  readonly zones: readonly string[];
  /** VPC network id the instance is peered with. */
  readonly networkId: pulumi.Input<string>;
  /**
   * Private service access range the instance takes its address from (`Network.privateServiceRangeName`).
   * @default - any range allocated to private service access
   */
  readonly reservedIpRange?: pulumi.Input<string>;
  /** Prefix of the AUTH string's Secret Manager secret id (`<prefix>-sessions-auth`), e.g. the landing zone's name. */
  readonly secretPrefix: string;
  /**
   * Protect and retain the instance and its AUTH secret, and turn on deletion protection (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Labels on the instance and the secret.
   * @default - none
   */
  readonly labels?: Readonly<Record<string, string>>;
  /**
   * Escape hatch: patches a child's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly instance?: (args: gcp.redis.InstanceArgs) => void };
}

/**
 * The central session store scaled-out services share: Memorystore for Redis reachable only through
 * private service access, TLS with server authentication, AUTH on (the AUTH string copied into a
 * Secret Manager secret that services are granted one by one), STANDARD_HA with a replica in another
 * zone in prod, RDB snapshots when the plan keeps them.
 *
 * Cost: Memorystore bills per GiB-hour provisioned, twice for STANDARD_HA.
 *
 * @example
 * const sessions = new SessionStore("sessions", { sessions: plan.sessions!, region, zones, networkId: network.networkId, secretPrefix: "shop" });
 * export const sessionEndpoint = sessions.endpoint;
 */
export class SessionStore extends pulumi.ComponentResource {
  readonly host: pulumi.Output<string>;
  /** 6378: the TLS port of Memorystore. */
  readonly port: pulumi.Output<number>;
  /** `<host>:<port>`. */
  readonly endpoint: pulumi.Output<string>;
  /** The AUTH string, as a Pulumi secret. */
  readonly authString: pulumi.Output<string>;
  /** Secret Manager secret id holding the AUTH string. */
  readonly authSecretId: pulumi.Output<string>;
  /** The secret version holding the AUTH string: what reads it at start waits for it. */
  readonly authSecretVersion: gcp.secretmanager.SecretVersion;
  /** PEM of the CA that signed the server certificate; clients verify the server with it. */
  readonly caCertificate: pulumi.Output<string>;
  readonly nodes: { readonly instance: gcp.redis.Instance; readonly authSecret: gcp.secretmanager.Secret };

  constructor(name: string, args: SessionStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const { sessions } = args;
    if (sessions.engine !== "redis") {
      throw new Error(`SessionStore ${name}: sessions.engine "${sessions.engine}" is not built on GCP (Memorystore for Memcached has no AUTH or TLS). Fix: set auth.sessions: redis`);
    }
    if (!TIERS.includes(sessions.nodeType as MemorystoreTier)) {
      throw new Error(`SessionStore ${name}: sessions.nodeType "${sessions.nodeType}" is not a Memorystore tier. Fix: use ${TIERS.join(" or ")}`);
    }
    const tier = sessions.nodeType as MemorystoreTier;
    if (tier === "STANDARD_HA" && args.zones.length < 2) throw new Error(`SessionStore ${name}: STANDARD_HA needs two zones, got [${args.zones.join(", ")}]. Fix: pass at least two zones`);
    if (args.zones.length < 1) throw new Error(`SessionStore ${name}: zones is empty. Fix: pass the zones of ${args.region}`);
    super("msa:gcp:SessionStore", name, {}, opts);
    const retain = args.retain ?? false;
    const labels = { ...args.labels };

    const instanceArgs: gcp.redis.InstanceArgs = {
      region: args.region,
      tier,
      memorySizeGb: Math.max(1, Math.ceil(sessions.memoryGiB)),
      redisVersion: MEMORYSTORE_REDIS_VERSION,
      locationId: args.zones[0]!,
      ...(tier === "STANDARD_HA" ? { alternativeLocationId: args.zones[1]! } : {}),
      authorizedNetwork: args.networkId,
      connectMode: "PRIVATE_SERVICE_ACCESS",
      ...(args.reservedIpRange ? { reservedIpRange: args.reservedIpRange } : {}),
      transitEncryptionMode: "SERVER_AUTHENTICATION",
      authEnabled: true,
      persistenceConfig: sessions.snapshotRetentionDays > 0 ? { persistenceMode: "RDB", rdbSnapshotPeriod: "TWELVE_HOURS" } : { persistenceMode: "DISABLED" },
      // Early Sunday UTC, when session traffic is lowest in most regions.
      maintenancePolicy: { weeklyMaintenanceWindows: [{ day: "SUNDAY", startTime: { hours: 3, minutes: 0 } }] },
      deletionProtection: retain,
      displayName: `Sessions of ${args.secretPrefix}`,
      labels,
    };
    args.transform?.instance?.(instanceArgs);
    const instance = new gcp.redis.Instance(`${name}-redis`, instanceArgs, { parent: this, protect: retain, retainOnDelete: retain, dependsOn: opts?.dependsOn ?? [] });

    const authSecret = new gcp.secretmanager.Secret(
      `${name}-auth`,
      { secretId: `${args.secretPrefix}-sessions-auth`, replication: { auto: {} }, deletionProtection: retain, labels: { ...labels, purpose: "session-store-auth" } },
      { parent: this, protect: retain, retainOnDelete: retain },
    );
    this.authString = pulumi.secret(instance.authString);
    this.authSecretVersion = new gcp.secretmanager.SecretVersion(`${name}-auth`, { secret: authSecret.id, secretData: this.authString }, { parent: this });

    this.host = instance.host;
    this.port = instance.port;
    this.endpoint = pulumi.interpolate`${instance.host}:${instance.port}`;
    this.authSecretId = authSecret.id;
    this.caCertificate = instance.serverCaCerts.apply((certs) => certs.map((c) => c.cert).join("\n"));
    this.nodes = { instance, authSecret };
    this.registerOutputs({ endpoint: this.endpoint, authSecretId: this.authSecretId });
  }
}
