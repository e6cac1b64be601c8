import { autonameFitter, type AutonamedTypes } from "../autonames.js";

/** The Compute Engine resources whose 63-character names a long zone and service name break as autonames. */
export const GCP_AUTONAMED: AutonamedTypes = {
  "gcp:compute/backendService:BackendService": { property: "name", kind: "gcpResource" },
  "gcp:compute/healthCheck:HealthCheck": { property: "name", kind: "gcpResource" },
  "gcp:compute/firewall:Firewall": { property: "name", kind: "gcpResource" },
  "gcp:compute/uRLMap:URLMap": { property: "name", kind: "gcpResource" },
};

/**
 * Gives the GCP resources of {@link GCP_AUTONAMED} without a name of their own a fitted one where
 * their autoname would pass 63 characters. The GCP `LandingZone` applies it to everything it creates;
 * pass it in `transformations` when using the components on their own with long names.
 */
export const fitGcpAutonames = autonameFitter(GCP_AUTONAMED);
