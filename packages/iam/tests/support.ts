import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type CfnTemplate, ResolvedTemplate } from '../src/index.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const RECORDINGS = join(ROOT, 'node_modules', '.cache', 'aws-calls');
const SERVERLESS = join(ROOT, '.serverless');
const TEMPLATE = join(SERVERLESS, 'cloudformation-template-update-stack.json');

/** The packaged template (`pnpm run package`, which `pnpm run check` runs before the tests). */
export function packagedTemplate(): { raw: CfnTemplate; template: ResolvedTemplate } {
  if (!existsSync(TEMPLATE)) {
    throw new Error(
      `${TEMPLATE} is missing: run \`pnpm run package\` (serverless package --stage dev) first`,
    );
  }
  const raw = JSON.parse(readFileSync(TEMPLATE, 'utf8')) as CfnTemplate;
  return { raw, template: new ResolvedTemplate(raw) };
}

/** `custom.iamUnusedGrants` of serverless.yml (action -> why the grant stays although no call uses it). */
export function justifiedUnusedGrants(): Record<string, string> {
  const state = JSON.parse(readFileSync(join(SERVERLESS, 'serverless-state.json'), 'utf8')) as {
    service: { custom?: { iamUnusedGrants?: Record<string, string> } };
  };
  return state.service.custom?.iamUnusedGrants ?? {};
}
