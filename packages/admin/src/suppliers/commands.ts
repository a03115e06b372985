import { readFile, writeFile } from 'node:fs/promises';
import { type Commands, stringFlag } from '../command.js';
import { loadAdminConfig } from '../config.js';
import { InvalidInputError, UsageError } from '../errors.js';
import { addSupplierCa, exportBundle, listSuppliers, retireSupplier } from './manage.js';

export const SUPPLIER_COMMANDS: Commands = {
  'supplier add': {
    usage:
      "supplier add <supplierId> <ca.pem>   check and trust a supplier's attestation CA (bundle + truststore)",
    async run(args, flags, io) {
      const [supplierId, path, ...extra] = args;
      if (supplierId === undefined || path === undefined || extra.length > 0) {
        throw new UsageError('supplier add takes <supplierId> <ca.pem>');
      }
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      let certificatePem: string;
      try {
        certificatePem = await readFile(path, 'utf8');
      } catch {
        throw new InvalidInputError('file', 'the CA file cannot be read');
      }
      return addSupplierCa({ supplierId, certificatePem }, io.deps(config));
    },
  },
  'supplier list': {
    usage: 'supplier list   every supplier attestation CA, ACTIVE and RETIRED',
    async run(args, flags, io) {
      if (args.length > 0) throw new UsageError('supplier list takes no arguments');
      return listSuppliers(io.deps(loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') })));
    },
  },
  'supplier retire': {
    usage:
      "supplier retire <supplierId> [--ca KEY_SHA256]   stop trusting a supplier's CA(s) for new enrolments",
    options: { ca: { type: 'string' } },
    async run(args, flags, io) {
      const [supplierId, ...extra] = args;
      if (supplierId === undefined || extra.length > 0)
        throw new UsageError('supplier retire takes <supplierId>');
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      return retireSupplier({ supplierId, caKeySha256: stringFlag(flags, 'ca') }, io.deps(config));
    },
  },
  'supplier bundle': {
    usage:
      "supplier bundle [--out FILE]   the trust bundle cv-admin keeps (published + suppliers table): the stage's attestationTrustBundle file before a deploy",
    options: { out: { type: 'string' } },
    async run(args, flags, io) {
      if (args.length > 0) throw new UsageError('supplier bundle takes no arguments');
      const config = loadAdminConfig(io.env, { stage: stringFlag(flags, 'stage') });
      const { bundle, certificates, bytes } = await exportBundle(io.deps(config));
      const out = stringFlag(flags, 'out');
      if (out === undefined) return { certificates, bytes, bundle };
      try {
        await writeFile(out, bundle, { mode: 0o644 });
      } catch {
        throw new InvalidInputError('out', 'the bundle file cannot be written');
      }
      return { certificates, bytes, written: out };
    },
  },
};
