import { afterEach, beforeEach } from "vitest";

// vitest's worker reads its runner's RPC replies only when its event loop polls, and awaiting a
// synchronous test or hook does not poll: a file of synchronous synths would leave replies unread past
// birpc's fixed 60 s timeout, and the run fails with `Timeout calling "onTaskUpdate"` although every
// test passed (vitest-dev/vitest#6479). Tests start from the poll phase, where one setImmediate
// resumes in the same loop iteration without polling; the second lands after the next poll.
const yieldToRunner = () => new Promise<void>((resolve) => setImmediate(() => setImmediate(resolve)));
// Before each test too, so a long beforeAll and the test after it are not one blocked stretch.
beforeEach(yieldToRunner);
afterEach(yieldToRunner);
