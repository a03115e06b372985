/** An in-memory replay ledger with the DynamoDB adapter's semantics (unit tests of the use case). */
import type { LedgerCertificate, NewProof, ProofRecord, ReplayLedger } from '../../src/ports.js';

export class MemoryLedger implements ReplayLedger {
  readonly rows = new Map<string, ProofRecord & { expiresAt: number }>();

  async claim(proof: NewProof) {
    const existing = this.rows.get(proof.proofId);
    if (existing) return { claimed: false as const, record: { ...existing } };
    this.rows.set(proof.proofId, { ...proof, state: 'CLAIMED' });
    return { claimed: true as const };
  }

  async takeOver(
    proofId: string,
    seen: { leaseOwner: string; leaseUntil: number },
    next: { leaseOwner: string; leaseUntil: number },
  ): Promise<boolean> {
    const row = this.rows.get(proofId);
    if (!row || row.state === 'COMPLETED') return false;
    if (row.leaseOwner !== seen.leaseOwner || row.leaseUntil !== seen.leaseUntil) return false;
    this.rows.set(proofId, { ...row, ...next });
    return true;
  }

  async recordRequested(proofId: string, leaseOwner: string, certificateArn: string): Promise<void> {
    const row = this.rows.get(proofId);
    if (row?.leaseOwner === leaseOwner && row.state === 'CLAIMED') {
      this.rows.set(proofId, { ...row, state: 'ISSUED', certificateArn });
    }
  }

  async complete(proofId: string, certificate: LedgerCertificate): Promise<ProofRecord | undefined> {
    const row = this.rows.get(proofId);
    if (!row) return undefined;
    if (row.state === 'COMPLETED') return { ...row };
    this.rows.set(proofId, { ...row, state: 'COMPLETED', certificate, leaseUntil: 0 });
    return undefined;
  }

  async release(proofId: string, leaseOwner: string): Promise<void> {
    const row = this.rows.get(proofId);
    if (row?.leaseOwner === leaseOwner && row.state !== 'COMPLETED') {
      this.rows.set(proofId, { ...row, leaseUntil: 0 });
    }
  }
}
