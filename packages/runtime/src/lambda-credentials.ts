/**
 * The AWS SDK's default credential provider as deployed functions bundle it: the environment only.
 *
 * Deployed bundles replace `@aws-sdk/credential-provider-node` (the full default chain: env, SSO,
 * INI files, process, web identity, ECS/IMDS, with nested STS/SSO clients) with this module through
 * esbuild's `alias` (`custom.esbuild.alias` in serverless.yml). Lambda always supplies the function
 * role's credentials in `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and `AWS_SESSION_TOKEN`, so the
 * rest of the chain is dead code there that every cold start still loads. `serverless invoke local`
 * (serverless/plugins/cv-packaging.cjs), the tests and the local runs keep the full chain.
 *
 * Not imported by any source file: only the bundler refers to it (docs/performance.md).
 */
import { fromEnv } from '@aws-sdk/credential-provider-env';

/** Same name and shape as `@aws-sdk/credential-provider-node`'s export, which the SDK clients import. */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]): ReturnType<typeof fromEnv> =>
  fromEnv(init);
