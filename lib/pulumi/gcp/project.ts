import * as gcp from "@pulumi/gcp";
import * as pulumi from "@pulumi/pulumi";

/** The provider's project: its id (for IAM, Workload Identity pools, image URLs) and number (for Google's service agents). */
export interface GcpProject {
  readonly id: pulumi.Output<string>;
  readonly number: pulumi.Output<string>;
}

/** Looks up the project of the provider `parent` uses (config `gcp:project` by default). */
export function projectOf(parent: pulumi.Resource): GcpProject {
  const project = gcp.organizations.getProjectOutput({}, { parent });
  return {
    id: pulumi.output(project.projectId).apply((id) => {
      if (!id) throw new Error("The GCP provider has no project. Fix: pulumi config set gcp:project <project-id>");
      return id;
    }),
    number: project.number,
  };
}

/** `serviceAccount:service-<number>@<agent>`: a Google service agent of the project (gcp-sa-pubsub.iam.gserviceaccount.com, ...). */
export function serviceAgent(project: GcpProject, domain: string): pulumi.Output<string> {
  return pulumi.interpolate`serviceAccount:service-${project.number}@${domain}`;
}
