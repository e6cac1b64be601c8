/**
 * A saga as a Google Cloud Workflows definition: pure data, rendered to YAML by the engine. Each
 * step sends its service a command on Pub/Sub and waits on a callback URL for the outcome; when a
 * step fails, the compensations of the steps completed before it run latest first, each retried,
 * and the execution ends as rolled back.
 */

/** The saga as the definition needs it (a spec saga or a planned one). */
export interface WorkflowSaga {
  readonly name: string;
  readonly steps: readonly { readonly service: string; readonly action: string; readonly compensate?: string }[];
}

export interface SagaWorkflowOptions {
  /** Full Pub/Sub topic id (`projects/<p>/topics/<t>`) of each participating service's commands. */
  readonly commandTopics: Readonly<Record<string, string>>;
  /**
   * Seconds a step's callback may take before the step counts as failed.
   * @default 300
   */
  readonly stepTimeoutSeconds?: number;
  /**
   * Retries of a compensation before the saga stops as compensation-failed (compensations are idempotent by contract).
   * @default 5
   */
  readonly compensationRetries?: number;
}

/** What a command message carries; the service replies by POSTing `{ status: "succeeded" | "failed", ... }` to `callbackUrl`. */
export const SAGA_COMMAND_FIELDS = ["saga", "execution", "step", "action", "input", "callbackUrl"] as const;
/** Outcomes an execution ends with. */
export const SAGA_OUTCOMES = { completed: "completed", rolledBack: "rolled-back", compensationFailed: "compensation-failed" } as const;

type Step = Record<string, unknown>;

/** Name of the workflow step that runs saga step `index` (0-based). */
export function sagaStepName(index: number): string {
  return `step_${index + 1}`;
}

/** Name of the workflow step that compensates saga step `index` (0-based). */
export function sagaCompensationName(index: number): string {
  return `undo_${index + 1}`;
}

/**
 * The Workflows definition (`main` plus the `run_command` and `retry_always` subworkflows). `main`
 * runs the steps in order; a failure records the failed step's number in `failed_at` and jumps (on
 * the top level only) to the compensations, which appear latest first, each guarded by
 * `failed_at > k` so exactly the steps completed before the failure are undone.
 */
export function sagaWorkflowDefinition(saga: WorkflowSaga, options: SagaWorkflowOptions): Record<string, unknown> {
  if (saga.steps.length < 2) throw new Error(`sagaWorkflowDefinition sagas[${saga.name}].steps: ${saga.steps.length} step(s). Fix: a saga has at least two steps`);
  const missing = [...new Set(saga.steps.map((s) => s.service))].filter((service) => !options.commandTopics[service]);
  if (missing.length > 0) throw new Error(`sagaWorkflowDefinition commandTopics: no topic for ${missing.join(", ")}. Fix: pass the command topic of every service in the saga`);
  const timeout = options.stepTimeoutSeconds ?? 300;
  const retries = options.compensationRetries ?? 5;
  const command = (index: number, action: string) => ({
    call: "run_command",
    args: { topic: options.commandTopics[saga.steps[index]!.service], saga: saga.name, step: index + 1, action, input: "${input}", timeout },
  });

  const steps: Step[] = [{ init: { assign: [{ failed_at: 0 }, { error: null }, { results: {} }] } }];
  saga.steps.forEach((step, index) => {
    const name = sagaStepName(index);
    steps.push({
      [name]: {
        try: { steps: [{ [`${name}_call`]: { ...command(index, step.action), result: "outcome" } }, { [`${name}_keep`]: { assign: [{ [`results.${name}`]: "${outcome}" }] } }] },
        except: { as: "e", steps: [{ [`${name}_failed`]: { assign: [{ failed_at: index + 1 }, { error: "${e}" }] } }] },
      },
    });
    steps.push({ [`${name}_check`]: { switch: [{ condition: "${failed_at > 0}", next: "compensate" }] } });
  });
  steps.push({ completed: { return: { status: SAGA_OUTCOMES.completed, results: "${results}" } } });
  steps.push({ compensate: { assign: [{ compensating: "${failed_at}" }] } });
  // The last step's compensation could never run: nothing follows it to fail.
  for (let index = saga.steps.length - 2; index >= 0; index--) {
    const step = saga.steps[index]!;
    if (step.compensate === undefined) continue;
    const name = sagaCompensationName(index);
    steps.push({
      [name]: {
        switch: [
          {
            // Step index+1 completed before the failure exactly when the failure came later.
            condition: `\${failed_at > ${index + 1}}`,
            steps: [
              {
                [`${name}_call`]: {
                  try: command(index, step.compensate),
                  retry: { predicate: "${retry_always}", max_retries: retries, backoff: { initial_delay: 2, max_delay: 60, multiplier: 2 } },
                  except: { as: "e", steps: [{ [`${name}_stuck`]: { raise: { status: SAGA_OUTCOMES.compensationFailed, step: index + 1, failedAt: "${failed_at}", error: "${e}" } } }] },
                },
              },
            ],
          },
        ],
      },
    });
  }
  steps.push({ rolled_back: { raise: { status: SAGA_OUTCOMES.rolledBack, failedAt: "${failed_at}", error: "${error}", results: "${results}" } } });

  return {
    main: { params: ["input"], steps },
    run_command: {
      params: ["topic", "saga", "step", "action", "input", "timeout"],
      steps: [
        { callback: { call: "events.create_callback_endpoint", args: { http_callback_method: "POST" }, result: "callback" } },
        {
          message: {
            assign: [
              {
                command: {
                  saga: "${saga}",
                  execution: '${sys.get_env("GOOGLE_CLOUD_WORKFLOW_EXECUTION_ID")}',
                  step: "${step}",
                  action: "${action}",
                  input: "${input}",
                  callbackUrl: "${callback.url}",
                },
              },
            ],
          },
        },
        {
          publish: {
            call: "googleapis.pubsub.v1.projects.topics.publish",
            args: { topic: "${topic}", body: { messages: [{ data: "${base64.encode(json.encode(command))}", attributes: { saga: "${saga}", action: "${action}" } }] } },
          },
        },
        { wait: { call: "events.await_callback", args: { callback: "${callback}", timeout: "${timeout}" }, result: "reply" } },
        { check: { switch: [{ condition: '${reply.http_request.body.status != "succeeded"}', raise: "${reply.http_request.body}" }] } },
        { done: { return: "${reply.http_request.body}" } },
      ],
    },
    retry_always: { params: ["e"], steps: [{ yes: { return: true } }] },
  };
}
