/** Entry point of the `cv-admin` bin (bundled by bin/cv-admin.mjs). */
import { awsDeps } from './aws.js';
import { runCli } from './cli.js';

process.exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
  deps: awsDeps,
  progress: process.stderr,
});
