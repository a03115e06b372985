#!/usr/bin/env node
// The capacity model of docs/capacity.md from a fleet-load run: calls per event come from the
// harness's counts (result.json), the fleet's event rates from the assumptions below, the
// quotas from the run unless replaced by --quota (a value corrected or raised since the run).
// Prints, per flow and API, the calls per second at 10 million ECUs against the quota.
// Usage: node scripts/capacity.mjs [.fleet-load/result.json] [--quota name=perSecond ...]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const replaced = new Map();
const files = [];
for (let i = 0; i < args.length; i++) {
  if (args[i] !== '--quota') {
    files.push(args[i]);
    continue;
  }
  const [name, value] = String(args[++i] ?? '').split('=');
  const perSecond = Number(value);
  if (!name || !(perSecond > 0) || !Number.isFinite(perSecond)) {
    throw new Error(`--quota takes name=perSecond (e.g. iot:UpdateCertificate=10), not ${args[i]}`);
  }
  replaced.set(name, perSecond);
}
const file = files[0] ?? '.fleet-load/result.json';
const run = JSON.parse(readFileSync(file, 'utf8'));
if (!Array.isArray(run.quotas)) throw new Error(`${file} has no quotas: rerun pnpm run fleet-load`);
for (const [name, perSecond] of replaced) {
  const quota = run.quotas.find((q) => q.name === name);
  if (!quota) throw new Error(`--quota ${name}: ${file} has no such quota`);
  quota.perSecond = perSecond;
}

// Assumptions (docs/capacity.md, "Assumptions"): events per second at 10 million ECUs.
const ECUS = 10_000_000;
const VEHICLES = 3_000_000;
const DAY = 86_400;
const rates = {
  // 1,000,000 new vehicles a year; peak: 30 plants x 1 vehicle per minute.
  enrolment: { average: (1_000_000 * (ECUS / VEHICLES)) / (365 * DAY), peak: (30 / 60) * (ECUS / VEHICLES) },
  // One JITR per new certificate: factory enrolments plus re-enrolment at 365-day validity;
  // peak: the whole fleet re-enrolled within 7 days (rotation campaign, CA change).
  jitr: { average: ECUS / (365 * DAY), peak: ECUS / (7 * DAY) },
  // 2 commands per vehicle per day; peak: a campaign to every vehicle within one hour.
  commands: { average: (VEHICLES * 2) / DAY, peak: VEHICLES / 3600 },
  // 1 message per ECU per minute while driving, 1.5 h a day; peak: 20 % of ECUs at once.
  telemetry: { average: (ECUS * 90) / DAY, peak: (ECUS * 0.2) / 60 },
};
const quotaOf = (api) => {
  const [service, op] = api.split(':');
  const direct = run.quotas.find((q) => q.name === api);
  if (direct) return direct;
  if (service === 'kms' && ['Sign', 'Verify'].includes(op))
    return run.quotas.find((q) => q.name === 'kms:ecc');
  if (
    service === 'kms' &&
    ['Decrypt', 'Encrypt', 'GenerateDataKey', 'GenerateDataKeyWithoutPlaintext', 'ReEncrypt'].includes(op)
  )
    return run.quotas.find((q) => q.name === 'kms:symmetric');
  if (api === 'iot:Publish') return run.quotas.find((q) => q.name === 'iotdata:Publish');
  return undefined;
};
const fmt = (n) => (n >= 100 ? n.toFixed(0) : n >= 1 ? n.toFixed(1) : n.toFixed(2));
const changed = [...replaced].map(([n, v]) => `${n} ${v}/s`).join(', ');
console.log(
  `calls per event from ${file} (${run.options.ecus} ECUs, time scale ${run.options.timeScale})` +
    `${changed ? `; quotas replaced: ${changed}` : ''}\n`,
);
console.log(
  '| flow | events/s average / peak | API | calls per event | calls/s at peak | quota/s | peak use | headroom (x) |',
);
console.log('| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |');
for (const flow of run.flows) {
  const r = rates[flow.flow];
  if (!r) continue;
  const rows = Object.entries(flow.callsPerEvent)
    .filter(([api]) => quotaOf(api))
    .map(([api, calls]) => {
      const q = quotaOf(api);
      const peak = r.peak * calls;
      return { api, calls, peak, quota: q.perSecond, name: q.name, use: peak / q.perSecond };
    })
    .sort((a, b) => b.use - a.use);
  for (const [i, x] of rows.entries()) {
    console.log(
      `| ${i === 0 ? flow.flow : ''} | ${i === 0 ? `${fmt(r.average)} / ${fmt(r.peak)}` : ''} | ${x.api}${x.name !== x.api ? ` (${x.name})` : ''} | ${x.calls} | ${fmt(x.peak)} | ${x.quota} | ${(x.use * 100).toFixed(0)}% | ${x.use > 0 ? fmt(1 / x.use) : 'n/a'} |`,
    );
  }
}
