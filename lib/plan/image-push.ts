/**
 * The push every image build ends with (CodeBuild, Cloud Build, GitHub Actions, Azure Pipelines),
 * written once so that every runner re-runs the same way.
 */

/**
 * One shell command that pushes `ref` (a quoted `<repository>:<commit>`, in the runner's own syntax)
 * unless the registry already holds that tag, leaving `ref` naming the registry's image either way.
 * The landing zone's registries (ECR, Artifact Registry, ACR) keep tags immutable, so when a run of a
 * commit is retried (its deploy failed, say), the rebuilt image (a new digest) could never be pushed
 * and the retry would fail at the push forever. It releases the image the first run pushed instead,
 * which those registries guarantee was never replaced. The pull makes `docker inspect` name its digest,
 * as a push does. Whoever may push to the repository could also seed a tag for a commit before its
 * build runs, which the build then releases: push rights are the build identity's alone (GitHub's
 * registry, used on existing clusters, also lets the repository's writers push, and its tags are mutable).
 * A failed check (credentials, network) shows its error and falls through to the push, which then fails.
 */
export function pushOnce(ref: string): string {
  return [
    `if docker manifest inspect ${ref} > /dev/null; then`,
    '  echo "The registry already holds the image of this commit, pushed by an earlier run (its tags are immutable): releasing that image, not this rebuild"',
    `  docker pull --quiet ${ref}`,
    "else",
    `  docker push ${ref}`,
    "fi",
  ].join("\n");
}
