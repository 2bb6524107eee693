/**
 * The CI workflow: a Pulumi preview commented on pull requests, `up` only on main, and secrets
 * only as `${{ secrets.* }}` references (application secrets stay Pulumi config secrets); pull
 * requests never touch production credentials, and the image is built and scanned before any
 * deploy.
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
  needs?: string | string[];
  environment?: string;
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
});

test("previews run in their own environment with an OIDC read-only identity, never the deploy one", () => {
  const preview = workflow.jobs.preview;
  expect(preview.environment).toBe("preview");
  expect(preview.permissions).toMatchObject({ "id-token": "write", contents: "read" });
  const auth = preview.steps.find((s) => s.uses?.startsWith("pulumi/auth-actions@"));
  expect(auth?.with).toMatchObject({ "requested-token-type": "urn:pulumi:token-type:access_token:team", scope: "team:${{ vars.PULUMI_PREVIEW_TEAM }}" });
  const previewText = JSON.stringify(preview);
  expect(previewText).toContain("secrets.PREVIEW_KUBECONFIG");
  expect(previewText).not.toMatch(/DEPLOY_KUBECONFIG|PULUMI_DEPLOY_TEAM|PULUMI_ACCESS_TOKEN|packages/);
  const up = workflow.jobs.up;
  expect(up.environment).toBe("production");
  expect(JSON.stringify(up)).toContain("secrets.DEPLOY_KUBECONFIG");
  // Only jobs in an environment get cluster credentials; the test and image jobs get none.
  for (const name of ["test", "image"]) expect(JSON.stringify(workflow.jobs[name])).not.toMatch(/KUBECONFIG|auth-actions/);
});

test("the image is built and scanned on every pull request, and deploys wait for it", () => {
  const image = workflow.jobs.image;
  expect(image.if).toBeUndefined();
  const build = image.steps.find((s) => s.uses?.startsWith("docker/build-push-action@"));
  expect(build?.with).toMatchObject({ file: "gateway/Dockerfile", push: false });
  const scan = image.steps.find((s) => s.uses?.startsWith("aquasecurity/trivy-action@"));
  expect(scan?.with).toMatchObject({ severity: "CRITICAL,HIGH", "exit-code": "1" });
  expect(workflow.jobs.up.needs).toEqual(["test", "image"]);
  expect(workflow.jobs.preview.needs).toEqual(["test", "image"]);
});

test("up runs only for pushes to main, after the tests", () => {
  expect(workflow.on.push.branches).toEqual(["main"]);
  const up = workflow.jobs.up;
  expect(up.if).toBe("github.event_name == 'push' && github.ref == 'refs/heads/main'");
  expect(up.needs).toContain("test");
  expect(pulumiStep(up).with).toMatchObject({ command: "up" });
  expect(workflow.jobs.test.steps.map((s) => s.run ?? s.uses)).toContain("./.ci/run");
});

test("no secret values in the workflow: only secrets.* references, never app keys", () => {
  const secretRefs = [...text.matchAll(/\$\{\{\s*secrets\.([A-Z_]+)\s*\}\}/g)].map((m) => m[1]);
  expect([...new Set(secretRefs)].sort()).toEqual(["DEPLOY_KUBECONFIG", "GITHUB_TOKEN", "PREVIEW_KUBECONFIG"]);
  expect(text).not.toMatch(/sk-[A-Za-z0-9]|OPENAI_API_KEY|PULUMI_CONFIG_PASSPHRASE/);
});
