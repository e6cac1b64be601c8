/**
 * Runs a Pulumi program under `pulumi.runtime.setMocks` and records every registered resource.
 *
 * How options are captured (measured with @pulumi/pulumi 3.270):
 * - The mock monitor's `newResource` sees type, name, resolved inputs and provider, but neither the
 *   parent nor `protect` / `retainOnDelete` / `dependsOn`.
 * - So the program runs inside a root `pulumi:pulumi:Stack` (`runInPulumiStack`) that carries a legacy
 *   `ResourceTransformation` (`registerStackTransformation`). Legacy transformations are inherited
 *   through `opts.parent`, run synchronously in the Resource constructor before registration and work
 *   under mocks, so they see every resource's options.
 * - The new-style `transforms` are not run under mocks: `registerResourceTransform` is accepted but its
 *   callback never fires, and per-resource `opts.transforms` are handed to `newResource` unrun (older
 *   SDKs threw instead). Components must therefore not depend on `transforms` for behaviour tests see.
 * - `protect` is inherited from the parent when a child leaves it unset; the recorded value is the
 *   effective one. `retainOnDelete` is not inherited by the SDK and is recorded as given.
 *
 * Runs must be sequential (the Pulumi runtime is process-global); each run resets mocks and config.
 * The tests, the benchmark (bench/targets/pulumi.ts) and `mlz plan` for Pulumi run programs through it.
 */
import * as pulumi from "@pulumi/pulumi";
import { MOCK_REGION, mockCall, mockState } from "./mock-state.js";

export interface RegisteredResource {
  /** Type token, e.g. `aws:ec2/vpc:Vpc` or `msa:aws:Network`. */
  readonly type: string;
  /** Logical (Pulumi) name. */
  readonly name: string;
  /** URN-like path of logical names from the outermost ancestor down to this resource, joined by `/`. */
  readonly path: string;
  /** Logical name of the parent; undefined for top-level resources. */
  readonly parent?: string;
  /** Type token of the parent; undefined for top-level resources. */
  readonly parentType?: string;
  /** Inputs as the provider would receive them (outputs resolved, secrets unwrapped). */
  readonly inputs: Record<string, unknown>;
  /** Top-level input keys whose value is (or contains) a Pulumi secret. */
  readonly secretInputs: readonly string[];
  /** State the mock returned (inputs plus realistic ids, ARNs and endpoints). */
  readonly outputs: Record<string, unknown>;
  /** Effective `protect` (inherited from the parent when unset). */
  readonly protect: boolean;
  readonly retainOnDelete: boolean;
  /** Properties whose changes `pulumi up` leaves alone after creation (`ignoreChanges`). */
  readonly ignoreChanges: readonly string[];
  /** Logical names of the resources listed in `dependsOn` (when given as a plain array). */
  readonly dependsOn: readonly string[];
  /** Earlier logical names the resource answers to (`aliases: [{ name }]`), so an upgrade keeps it. */
  readonly aliases: readonly string[];
  /** Logical name of the explicit `provider` option, if any. */
  readonly provider?: string;
  /** True for custom (provider-managed) resources, false for components. */
  readonly custom: boolean;
}

export interface RunOptions {
  /** Config values, keyed `<namespace>:<key>` (e.g. `aws:region`). `aws:region` defaults to us-east-1. */
  readonly config?: Record<string, string>;
  /** Extra call mocks by token (e.g. `aws:ec2/getVpc:getVpc`), consulted before the built-in ones. */
  readonly calls?: Record<string, (inputs: Record<string, unknown>) => Record<string, unknown>>;
  /**
   * `Error.stackTraceLimit` while the program runs; restored afterwards.
   * @default 0 - Pulumi records a stack trace per Output; with no frames runs take about half the time
   */
  readonly stackTraceLimit?: number;
}

export interface ProgramResult {
  /** Every resource but the root stack, in construction order (resources the SDK adds itself, such as default providers, last). */
  readonly resources: RegisteredResource[];
}

interface CapturedOptions {
  order: number;
  parent?: string;
  parentType?: string;
  protect: boolean;
  retainOnDelete: boolean;
  ignoreChanges: string[];
  dependsOn: string[];
  /** Earlier names the resource answers to (`aliases: [{ name }]`). */
  aliases: string[];
  provider?: string;
}

const ROOT_TYPE = "pulumi:pulumi:Stack";

/** Runs `program` under mocks; resolves once every registration and output has settled. */
export async function runProgram(program: () => void | Promise<void>, options: RunOptions = {}): Promise<ProgramResult> {
  const stackTraceLimit = Error.stackTraceLimit;
  Error.stackTraceLimit = options.stackTraceLimit ?? 0;
  try {
    return await runMocked(program, options);
  } finally {
    Error.stackTraceLimit = stackTraceLimit;
  }
}

async function runMocked(program: () => void | Promise<void>, options: RunOptions): Promise<ProgramResult> {
  const captured = new Map<string, CapturedOptions>();
  const registered: Array<Omit<RegisteredResource, Exclude<keyof CapturedOptions, "order"> | "path">> = [];
  const resourceNames = new WeakMap<pulumi.Resource, { name: string; type: string }>();

  pulumi.runtime.setAllConfig({ "aws:region": MOCK_REGION, ...options.config });
  await pulumi.runtime.setMocks(
    {
      newResource(args) {
        const raw = args.inputs as Record<string, unknown>;
        const inputs = unwrapSecrets(raw) as Record<string, unknown>;
        const outputs = mockState(args.type, args.name, inputs);
        registered.push({
          type: args.type,
          name: args.name,
          inputs,
          secretInputs: Object.keys(raw).filter((key) => containsSecret(raw[key])),
          outputs,
          custom: args.custom ?? false,
        });
        return { id: String(outputs["id"] ?? `${args.name}-id`), state: outputs };
      },
      call(args) {
        const inputs = args.inputs as Record<string, unknown>;
        const custom = options.calls?.[args.token];
        return custom ? custom(inputs) : mockCall(args.token, inputs);
      },
    },
    "project",
    "test",
    false,
  );

  const nameOf = (resource: unknown): { name: string; type: string } | undefined =>
    resource instanceof pulumi.Resource ? resourceNames.get(resource) : undefined;

  const capture: pulumi.ResourceTransformation = ({ resource, type, name, opts }) => {
    resourceNames.set(resource, { name, type });
    const parent = nameOf(opts.parent);
    const parentKey = parent && parent.type !== ROOT_TYPE ? `${parent.type}::${parent.name}` : undefined;
    const inheritedProtect = parentKey ? (captured.get(parentKey)?.protect ?? false) : false;
    const dependsOn = Array.isArray(opts.dependsOn) ? opts.dependsOn : opts.dependsOn ? [opts.dependsOn] : [];
    const provider = nameOf(opts.provider);
    captured.set(`${type}::${name}`, {
      order: captured.size,
      ...(parentKey ? { parent: parent!.name, parentType: parent!.type } : {}),
      protect: opts.protect ?? inheritedProtect,
      retainOnDelete: opts.retainOnDelete ?? false,
      ignoreChanges: [...(opts.ignoreChanges ?? [])],
      dependsOn: dependsOn.flatMap((d) => {
        const found = nameOf(d);
        return found ? [found.name] : [];
      }),
      aliases: (opts.aliases ?? []).flatMap((alias) => (typeof alias === "object" && alias !== null && "name" in alias && typeof alias.name === "string" ? [alias.name] : [])),
      ...(provider ? { provider: provider.name } : {}),
    });
    return undefined;
  };

  // A program error is held back from the stack, whose own promises would otherwise reject unhandled,
  // and rethrown once the registrations still in flight have finished against this run's mocks.
  let failure: { error: unknown } | undefined;
  await pulumi.runtime.runInPulumiStack(async () => {
    pulumi.runtime.registerStackTransformation(capture);
    try {
      await program();
    } catch (error) {
      failure = { error };
    }
    return {};
  });
  await settle();
  if (failure) throw failure.error;
  // A resource whose inputs failed to resolve (an error thrown inside an apply) is constructed but never registered.
  const registeredKeys = new Set(registered.map((r) => `${r.type}::${r.name}`));
  const unregistered = [...captured.keys()].filter((k) => !registeredKeys.has(k));
  if (unregistered.length > 0) throw new Error(`${unregistered.length} resource(s) were constructed but never registered, because an input failed to resolve: ${unregistered.join(", ")}`);

  const records = registered
    .filter((r) => r.type !== ROOT_TYPE)
    .map((r) => {
      const { order, ...opts } = captured.get(`${r.type}::${r.name}`) ?? { order: Number.MAX_SAFE_INTEGER, protect: false, retainOnDelete: false, ignoreChanges: [], dependsOn: [], aliases: [] };
      return { ...r, ...opts, path: "", order };
    })
    .sort((a, b) => a.order - b.order)
    .map(({ order: _order, ...r }): RegisteredResource => r);
  const byKey = new Map(records.map((r) => [`${r.type}::${r.name}`, r]));
  const pathOf = (r: RegisteredResource): string => {
    const parent = r.parent && r.parentType ? byKey.get(`${r.parentType}::${r.parent}`) : undefined;
    return parent ? `${pathOf(parent)}/${r.name}` : r.name;
  };
  return { resources: records.map((r) => ({ ...r, path: pathOf(r) })) };
}

/** Waits until the runtime's RPC queue has drained, i.e. every registration and output resolved. */
async function settle(): Promise<void> {
  const runtime = pulumi.runtime as unknown as { waitForRPCs?: () => Promise<void> };
  if (runtime.waitForRPCs) await runtime.waitForRPCs();
  await new Promise((resolve) => setImmediate(resolve));
}

/** Resources of one type token, in construction order. */
export function byType(resources: readonly RegisteredResource[], type: string): RegisteredResource[] {
  return resources.filter((r) => r.type === type);
}

/** Direct children of the resource with logical name `parentName`. */
export function childrenOf(resources: readonly RegisteredResource[], parentName: string): RegisteredResource[] {
  return resources.filter((r) => r.parent === parentName);
}

/** The single resource of `type` (optionally with `name`); throws when there is none or several. */
export function single(resources: readonly RegisteredResource[], type: string, name?: string): RegisteredResource {
  const found = resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) {
    throw new Error(`expected one ${type}${name ? ` named ${name}` : ""}, found ${found.length}: ${found.map((r) => r.name).join(", ")}`);
  }
  return found[0]!;
}

/** Parses an input that holds a JSON document (IAM policies, redrive policies). */
export function jsonInput(resource: RegisteredResource, key: string): unknown {
  const value = resource.inputs[key];
  if (typeof value !== "string") throw new Error(`${resource.name}.${key} is not a JSON string: ${String(value)}`);
  return JSON.parse(value);
}

// Serialized secrets arrive as { [SPECIAL_SIG_KEY]: SPECIAL_SECRET_SIG, value }.
const SECRET_SIGNATURE = "1b47061264138c4ac30d75fd1eb44270";

function isSecret(value: unknown): value is { value: unknown } {
  return typeof value === "object" && value !== null && Object.values(value).includes(SECRET_SIGNATURE) && "value" in value;
}

function containsSecret(value: unknown): boolean {
  if (isSecret(value)) return true;
  if (Array.isArray(value)) return value.some(containsSecret);
  if (typeof value === "object" && value !== null) return Object.values(value).some(containsSecret);
  return false;
}

function unwrapSecrets(value: unknown): unknown {
  if (isSecret(value)) return unwrapSecrets(value.value);
  if (Array.isArray(value)) return value.map(unwrapSecrets);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, unwrapSecrets(v)]));
  }
  return value;
}
