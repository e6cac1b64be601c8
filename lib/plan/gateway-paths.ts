/** `/api/orders/` → `/api/orders`; `/` → `` (the root prefix). */
export function routePrefix(path: string): string {
  return path.replace(/\/+$/, "");
}

/** HTTP API route paths for a prefix: the prefix itself, then everything below it (`{proxy+}`). */
export function apiRoutePaths(path: string): readonly [prefix: string, proxy: string] {
  const prefix = routePrefix(path);
  return [prefix === "" ? "/" : prefix, `${prefix}/{proxy+}`];
}

/** Load balancer path patterns for a prefix: the prefix itself and everything below it. */
export function loadBalancerPathPatterns(path: string): string[] {
  const prefix = routePrefix(path);
  return prefix === "" ? ["/*"] : [prefix, `${prefix}/*`];
}
