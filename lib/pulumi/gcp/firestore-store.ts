import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { physicalName } from "../../plan/naming.js";
import { projectOf } from "./project.js";
import type { ServiceAttachment } from "./service-identity.js";

/** Arguments of {@link FirestoreStore}. */
export interface FirestoreStoreArgs {
  /** The owning service; only its account is granted access. */
  readonly service: string;
  /** What the store holds; suffixes its name (`<prefix>-<service>[-<purpose>]`): `data` (the service's database) adds nothing. */
  readonly purpose: "data" | "read" | "events";
  /** Location of the database (a region). */
  readonly region: string;
  /** Prefix of the database id (`<zone>-<env>`). */
  readonly namePrefix: string;
  /** Environment variable the owning service reads the database id from. */
  readonly envVar: string;
  /**
   * Point-in-time recovery (7 days of versions).
   * @default false
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * Days a daily backup is kept; 0 takes none.
   * @default 0
   */
  readonly backupRetentionDays?: number;
  /**
   * Deletion protection, protect and retain, and abandon rather than delete (prod).
   * @default false
   */
  readonly retain?: boolean;
  /**
   * Escape hatch: patches the database's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly database?: (args: gcp.firestore.DatabaseArgs) => void };
}

/**
 * A Firestore (native mode) database owned by one service: a database per purpose, so the
 * service's `roles/datastore.user` grant is conditioned on this database alone and no other
 * service can read it. The building block of key-value and document databases, CQRS read stores and
 * event stores.
 *
 * Cost: Firestore bills per document read, write and delete, and per GiB stored; backups per GiB.
 *
 * @example
 * const store = new FirestoreStore("history-read", { service: "order-history", purpose: "read", region, namePrefix: "shop-prod", envVar: "READ_MODEL_DATABASE" });
 */
export class FirestoreStore extends pulumi.ComponentResource {
  readonly database: gcp.firestore.Database;
  /** Database id. */
  readonly databaseName: pulumi.Output<string>;
  /** Environment and the conditioned role for the owning service. */
  readonly attachment: ServiceAttachment;

  constructor(name: string, args: FirestoreStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    const id = physicalName("kubernetes", args.namePrefix, args.service, ...(args.purpose === "data" ? [] : [args.purpose]));
    if (id.length < 4) throw new Error(`FirestoreStore ${name}: database id "${id}" is shorter than Firestore's 4 characters. Fix: use a longer namePrefix`);
    if (!/^[A-Z][A-Z0-9_]*$/.test(args.envVar)) throw new Error(`FirestoreStore ${name}: envVar "${args.envVar}" is not an UPPER_SNAKE_CASE variable. Fix: e.g. FIRESTORE_DATABASE`);
    super("msa:gcp:FirestoreStore", name, {}, opts);
    const retain = args.retain ?? false;
    const databaseArgs: gcp.firestore.DatabaseArgs = {
      name: id,
      locationId: args.region,
      type: "FIRESTORE_NATIVE",
      concurrencyMode: "OPTIMISTIC",
      pointInTimeRecoveryEnablement: args.pointInTimeRecovery ? "POINT_IN_TIME_RECOVERY_ENABLED" : "POINT_IN_TIME_RECOVERY_DISABLED",
      deleteProtectionState: retain ? "DELETE_PROTECTION_ENABLED" : "DELETE_PROTECTION_DISABLED",
      deletionPolicy: retain ? "ABANDON" : "DELETE",
    };
    args.transform?.database?.(databaseArgs);
    this.database = new gcp.firestore.Database(`${name}-database`, databaseArgs, { parent: this, protect: retain, retainOnDelete: retain });
    const days = args.backupRetentionDays ?? 0;
    if (days > 0) new gcp.firestore.BackupSchedule(`${name}-backups`, { database: this.database.name, retention: `${days * 86400}s`, dailyRecurrence: {} }, { parent: this });
    this.databaseName = this.database.name;
    const onDatabase = pulumi.interpolate`resource.name == "projects/${projectOf(this).id}/databases/${this.database.name}"`;
    this.attachment = {
      env: { [args.envVar]: this.database.name },
      projectRoles: [{ role: "roles/datastore.user", condition: { title: `only ${args.service}'s ${args.purpose} database`, expression: onDatabase } }],
    };
    this.registerOutputs({ databaseName: this.databaseName });
  }
}
