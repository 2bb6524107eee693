/**
 * The gateway's container image: built from gateway/Dockerfile and pushed, or a prebuilt one.
 * Either way the output is a reference by digest (`repo@sha256:…`), so a deployment changes
 * exactly when the image does and never follows a moving tag.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";

export interface GatewayImageBuildArgs {
  /** Repository to push to, e.g. `ghcr.io/acme/ai-gateway` (a tag is optional: the digest deploys). */
  imageName: pulumi.Input<string>;
  /** Build context; the repository root, because the build needs package.json and the lockfile. */
  context?: pulumi.Input<string>;
  dockerfile?: pulumi.Input<string>;
  /** Target platform of the cluster's nodes. */
  platform?: pulumi.Input<string>;
  registry?: {
    server: pulumi.Input<string>;
    username?: pulumi.Input<string>;
    password?: pulumi.Input<string>;
  };
}

export interface GatewayImageArgs {
  /** Build and push the image (exclusive with imageReference). */
  build?: GatewayImageBuildArgs;
  /** Use an image built elsewhere; must be by digest: `registry/repo@sha256:<64 hex>`. */
  imageReference?: pulumi.Input<string>;
}

export const DIGEST_REFERENCE = /^[^\s@]+@sha256:[0-9a-f]{64}$/;

function checkDigest(reference: string): string {
  if (!DIGEST_REFERENCE.test(reference)) {
    throw new Error(`GatewayImage: imageReference must pin a digest (repo@sha256:<64 hex>), got "${reference}"`);
  }
  return reference;
}

/** The argument checks, callable before anything is created (AiGateway runs them all first). */
export function checkGatewayImageArgs(args: GatewayImageArgs): void {
  if ((args.build === undefined) === (args.imageReference === undefined)) {
    throw new Error("GatewayImage: set exactly one of build or imageReference");
  }
  if (typeof args.imageReference === "string") checkDigest(args.imageReference);
}

/**
 * @pulumi/docker is an optional peer: stacks that deploy a prebuilt digest never load it, and do
 * not need it installed.
 */
function loadDocker(): typeof docker {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return require("@pulumi/docker") as typeof docker;
  } catch {
    throw new Error("GatewayImage: building the image needs the @pulumi/docker package (npm install @pulumi/docker), or pass imageReference");
  }
}

export class GatewayImage extends pulumi.ComponentResource {
  /** `repo@sha256:…`: what the Deployment runs. */
  public readonly imageReference: pulumi.Output<string>;
  /** The build (a @pulumi/docker Image), when this component builds; typed loosely so consumers need not install @pulumi/docker. */
  public readonly image: pulumi.CustomResource | undefined;

  constructor(name: string, args: GatewayImageArgs, opts?: pulumi.ComponentResourceOptions) {
    super("ai-gateway:docker:GatewayImage", name, {}, opts);
    checkGatewayImageArgs(args);

    if (args.build) {
      const b = args.build;
      const image = new (loadDocker().Image)(
        `${name}-build`,
        {
          imageName: b.imageName,
          build: {
            context: b.context ?? ".",
            dockerfile: b.dockerfile ?? "gateway/Dockerfile",
            platform: b.platform ?? "linux/amd64",
          },
          registry: b.registry,
        },
        { parent: this },
      );
      this.image = image;
      // For a pushed image this is `repo@sha256:…`, unique per build and push.
      this.imageReference = image.repoDigest.apply(checkDigest);
    } else {
      this.image = undefined;
      this.imageReference = pulumi.output(args.imageReference as pulumi.Input<string>).apply(checkDigest);
    }
    this.registerOutputs({ imageReference: this.imageReference });
  }
}
