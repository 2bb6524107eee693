/**
 * The CI workflow: a Pulumi preview commented on pull requests, `up` only on main, and secrets
 * only as `${{ secrets.* }}` references (application secrets stay Pulumi config secrets).
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { ROOT } from "../helpers/pulumi-mocks";

interface Step {
  uses?: string;
  run?: string;
  with?: Record<string, unknown>;
  env?: Record<string, string>;
}
interface Job {
  if?: string;
  needs?: string;
  steps: Step[];
  permissions?: Record<string, string>;
}

const text = readFileSync(join(ROOT, ".github", "workflows", "infra.yml"), "utf8");
const workflow = parse(text) as { on: Record<string, { branches?: string[] }>; jobs: Record<string, Job> };
const pulumiStep = (job: Job) => job.steps.find((s) => s.uses?.startsWith("pulumi/actions@"))!;

test("pull requests get a preview posted as a comment", () => {
  expect(Object.keys(workflow.on).sort()).toEqual(["pull_request", "push"]);
  const preview = workflow.jobs.preview;
  expect(preview.if).toContain("github.event_name == 'pull_request'");
  expect(preview.permissions).toMatchObject({ "pull-requests": "write" });
  expect(pulumiStep(preview).with).toMatchObject({ command: "preview", "comment-on-pr": true, "github-token": "${{ secrets.GITHUB_TOKEN }}" });
  expect(pulumiStep(preview).env).toMatchObject({ PULUMI_ACCESS_TOKEN: "${{ secrets.PULUMI_ACCESS_TOKEN }}" });
});

test("up runs only for pushes to main, after the tests", () => {
  expect(workflow.on.push.branches).toEqual(["main"]);
  const up = workflow.jobs.up;
  expect(up.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
  expect(up.needs).toBe("test");
  expect(pulumiStep(up).with).toMatchObject({ command: "up" });
  expect(workflow.jobs.test.steps.map((s) => s.run ?? s.uses)).toContain("./.ci/run");
});

test("no secret values in the workflow: only secrets.* references, never app keys", () => {
  const secretRefs = [...text.matchAll(/\$\{\{\s*secrets\.([A-Z_]+)\s*\}\}/g)].map((m) => m[1]);
  expect([...new Set(secretRefs)].sort()).toEqual(["GITHUB_TOKEN", "KUBECONFIG", "PULUMI_ACCESS_TOKEN"]);
  expect(text).not.toMatch(/sk-[A-Za-z0-9]|OPENAI_API_KEY|PULUMI_CONFIG_PASSPHRASE/);
});
