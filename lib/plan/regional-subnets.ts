/** Subnet layout for clouds whose subnets span every zone of a region (Azure, GCP). No engine imports. */

import { formatCidr, parseCidr, subdivide } from "./cidr.js";

/**
 * One range per subnet role, the blocks `allocateSubnets` splits per zone (private half, public
 * and isolated quarters), so a regional and a zonal layout of the same range never disagree.
 */
export interface RegionalSubnets {
  readonly public: string;
  readonly private: string;
  readonly isolated: string;
}

export function regionalSubnets(vpcCidr: string): RegionalSubnets {
  const vpc = parseCidr(vpcCidr);
  if (vpc.prefix > 26) throw new Error(`${vpcCidr} is too small for regional subnets: the quarters would be smaller than /28. Fix: use a /26 or larger range`);
  return {
    private: formatCidr(subdivide(vpc, vpc.prefix + 1, 0)),
    public: formatCidr(subdivide(vpc, vpc.prefix + 2, 2)),
    isolated: formatCidr(subdivide(vpc, vpc.prefix + 2, 3)),
  };
}

