import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";
import { appEngineLocation } from "../../plan/gcp.js";

/** Arguments of {@link AppEngineApplication}. */
export interface AppEngineApplicationArgs {
  /** Compute region of the landing zone; the application's location is its App Engine name (us-central1 → us-central). */
  readonly region: string;
  /**
   * The project already has its App Engine application (a project has at most one, in a location fixed forever): nothing is created, and its default hostname (`<project>.<region code>.r.appspot.com`) is given here.
   * @default - the application is created
   */
  readonly existing?: { readonly defaultHostname: string };
  /**
   * Escape hatch: patches the application's arguments before it is created.
   * @default - no patch
   */
  readonly transform?: { readonly application?: (args: gcp.appengine.ApplicationArgs) => void };
}

/**
 * The project's App Engine application, which every App Engine service belongs to. Google never
 * deletes an application, so it is protected: removing it from the program is an explicit
 * `pulumi state delete`, not a surprise.
 *
 * @example
 * const app = new AppEngineApplication("shop", { region: "asia-northeast3" });
 */
export class AppEngineApplication extends pulumi.ComponentResource {
  /** App Engine location id. */
  readonly locationId: string;
  /** `<project>.<region code>.r.appspot.com`; services answer at `<service>-dot-<hostname>`. */
  readonly defaultHostname: pulumi.Output<string>;
  /** The application, or undefined when it already existed. */
  readonly application?: gcp.appengine.Application;
  /** What App Engine services wait for. */
  readonly ready: readonly pulumi.Resource[];

  constructor(name: string, args: AppEngineApplicationArgs, opts?: pulumi.ComponentResourceOptions) {
    super("msa:gcp:AppEngineApplication", name, {}, opts);
    this.locationId = appEngineLocation(args.region);
    if (!args.existing) {
      const applicationArgs: gcp.appengine.ApplicationArgs = { locationId: this.locationId, servingStatus: "SERVING" };
      args.transform?.application?.(applicationArgs);
      this.application = new gcp.appengine.Application(`${name}-app`, applicationArgs, { parent: this, protect: true, retainOnDelete: true });
    }
    this.defaultHostname = this.application ? this.application.defaultHostname : pulumi.output(args.existing!.defaultHostname);
    this.ready = this.application ? [this.application] : [];
    this.registerOutputs({ locationId: this.locationId });
  }
}
