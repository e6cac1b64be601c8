/** IPv4 CIDR maths shared by validation, the planner and every engine. No engine imports. */

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefix: number;
}

export function parseCidr(text: string): Cidr {
  const match = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(text);
  if (!match) throw new Error(`"${text}" is not an IPv4 CIDR such as 10.0.0.0/16`);
  const octets = match.slice(1, 5).map(Number);
  const prefix = Number(match[5]);
  if (octets.some((o) => o > 255)) throw new Error(`"${text}" has an octet above 255`);
  if (prefix > 32) throw new Error(`"${text}" has a prefix above 32`);
  const address = ((octets[0]! << 24) >>> 0) + (octets[1]! << 16) + (octets[2]! << 8) + octets[3]!;
  const base = (address & prefixMask(prefix)) >>> 0;
  if (base !== address) {
    throw new Error(`"${text}" has host bits set; the network address is ${formatCidr({ base, prefix })}`);
  }
  return { base, prefix };
}

export function formatCidr(cidr: Cidr): string {
  const b = cidr.base;
  return `${b >>> 24}.${(b >>> 16) & 255}.${(b >>> 8) & 255}.${b & 255}/${cidr.prefix}`;
}

function prefixMask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

export function cidrSize(cidr: Cidr): number {
  return 2 ** (32 - cidr.prefix);
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  const aEnd = a.base + cidrSize(a);
  const bEnd = b.base + cidrSize(b);
  return a.base < bEnd && b.base < aEnd;
}

export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return inner.prefix >= outer.prefix && inner.base >= outer.base && inner.base + cidrSize(inner) <= outer.base + cidrSize(outer);
}

/** The `index`-th block of prefix `newPrefix` inside `cidr`. */
export function subdivide(cidr: Cidr, newPrefix: number, index: number): Cidr {
  if (newPrefix < cidr.prefix) throw new Error(`cannot split /${cidr.prefix} into larger /${newPrefix} blocks`);
  const count = 2 ** (newPrefix - cidr.prefix);
  if (index < 0 || index >= count) throw new Error(`/${cidr.prefix} holds ${count} /${newPrefix} blocks; index ${index} is out of range`);
  return { base: (cidr.base + index * 2 ** (32 - newPrefix)) >>> 0, prefix: newPrefix };
}

export interface SubnetLayout {
  /** One CIDR per zone, in zone order. */
  readonly public: readonly string[];
  readonly private: readonly string[];
  readonly isolated: readonly string[];
}

/**
 * Splits a VPC range into public, private and isolated subnets per zone.
 * Private subnets get half the range (workloads and pods need the addresses); public and isolated
 * a quarter each. Each quarter/half is split into a power of two ≥ zones.
 */
export function allocateSubnets(vpcCidr: string, zones: number): SubnetLayout {
  const vpc = parseCidr(vpcCidr);
  if (zones < 1) throw new Error("at least one zone is needed");
  const zoneBits = Math.ceil(Math.log2(zones));
  const privateHalf = subdivide(vpc, vpc.prefix + 1, 0);
  const publicQuarter = subdivide(vpc, vpc.prefix + 2, 2);
  const isolatedQuarter = subdivide(vpc, vpc.prefix + 2, 3);
  const smallest = vpc.prefix + 2 + zoneBits;
  if (smallest > 28) {
    throw new Error(`${vpcCidr} is too small for ${zones} zones: subnets would be /${smallest}, AWS needs /28 or larger`);
  }
  const split = (parent: Cidr) =>
    Array.from({ length: zones }, (_, i) => formatCidr(subdivide(parent, parent.prefix + zoneBits, i)));
  return { private: split(privateHalf), public: split(publicQuarter), isolated: split(isolatedQuarter) };
}
