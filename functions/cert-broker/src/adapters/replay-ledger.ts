import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { LedgerCertificate, NewProof, ProofRecord, ProofState, ReplayLedger } from '../ports.js';
import { callDynamoDb } from './dynamodb-call.js';

const STATES: readonly ProofState[] = ['CLAIMED', 'ISSUED', 'COMPLETED'];

/**
 * The replay ledger table (`REPLAY_LEDGER_TABLE`): pk `proofId` (hex SHA-256 of the proof),
 * TTL attribute `ttl`. Every write is a conditional write on `proofId`, `state` and the lease.
 */
export class DynamoDbReplayLedger implements ReplayLedger {
  constructor(
    private readonly client: DynamoDBDocumentClient,
    private readonly tableName: string,
    private readonly retryAfterSeconds = 2,
  ) {}

  async claim(
    proof: NewProof,
  ): Promise<{ readonly claimed: true } | { readonly claimed: false; readonly record: ProofRecord }> {
    // Twice at most: a row that expired (TTL) between the failed put and the read is claimable again.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const put = await this.conditional(() =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: {
              proofId: proof.proofId,
              state: 'CLAIMED',
              proofKind: proof.proofKind,
              ecuId: proof.ecuId,
              thingName: proof.thingName,
              leaseOwner: proof.leaseOwner,
              leaseUntil: proof.leaseUntil,
              createdAt: proof.createdAt,
              ttl: proof.expiresAt,
            },
            ConditionExpression: 'attribute_not_exists(proofId)',
          }),
        ),
      );
      if (put) return { claimed: true };
      const record = await this.get(proof.proofId);
      if (record !== undefined) return { claimed: false, record };
    }
    throw new Error('replay ledger: proof row neither claimable nor readable');
  }

  async takeOver(
    proofId: string,
    seen: { readonly leaseOwner: string; readonly leaseUntil: number },
    next: { readonly leaseOwner: string; readonly leaseUntil: number },
  ): Promise<boolean> {
    return this.conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { proofId },
          UpdateExpression: 'SET leaseOwner = :owner, leaseUntil = :until',
          ConditionExpression: 'leaseOwner = :seenOwner AND leaseUntil = :seenUntil AND #state <> :completed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':owner': next.leaseOwner,
            ':until': next.leaseUntil,
            ':seenOwner': seen.leaseOwner,
            ':seenUntil': seen.leaseUntil,
            ':completed': 'COMPLETED',
          },
        }),
      ),
    );
  }

  async recordRequested(proofId: string, leaseOwner: string, certificateArn: string): Promise<void> {
    // Lost lease: whoever took over asks the CA with the same idempotency token (same ARN).
    await this.conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { proofId },
          UpdateExpression: 'SET #state = :issued, certificateArn = :arn',
          ConditionExpression: 'leaseOwner = :owner AND #state = :claimed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':issued': 'ISSUED',
            ':claimed': 'CLAIMED',
            ':arn': certificateArn,
            ':owner': leaseOwner,
          },
        }),
      ),
    );
  }

  async complete(proofId: string, certificate: LedgerCertificate): Promise<ProofRecord | undefined> {
    const won = await this.conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { proofId },
          UpdateExpression:
            'SET #state = :completed, certificatePem = :pem, certificateChainPem = :chain, serialNumber = :serial, notAfter = :notAfter, leaseUntil = :zero',
          ConditionExpression: 'attribute_exists(proofId) AND #state <> :completed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: {
            ':completed': 'COMPLETED',
            ':pem': certificate.certificatePem,
            ':chain': certificate.certificateChainPem,
            ':serial': certificate.serialNumber,
            ':notAfter': certificate.notAfter,
            ':zero': 0,
          },
        }),
      ),
    );
    return won ? undefined : this.get(proofId);
  }

  async release(proofId: string, leaseOwner: string): Promise<void> {
    await this.conditional(() =>
      this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { proofId },
          UpdateExpression: 'SET leaseUntil = :zero',
          ConditionExpression: 'leaseOwner = :owner AND #state <> :completed',
          ExpressionAttributeNames: { '#state': 'state' },
          ExpressionAttributeValues: { ':zero': 0, ':owner': leaseOwner, ':completed': 'COMPLETED' },
        }),
      ),
    );
  }

  private async get(proofId: string): Promise<ProofRecord | undefined> {
    const out = await this.call(() =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: { proofId }, ConsistentRead: true })),
    );
    const item = out.Item;
    if (!item) return undefined;
    const text = (key: string): string => (typeof item[key] === 'string' ? (item[key] as string) : '');
    const state = STATES.find((s) => s === item.state);
    if (state === undefined) throw new Error('replay ledger: row with an unknown state');
    return {
      proofId: text('proofId'),
      state,
      ecuId: text('ecuId'),
      thingName: text('thingName'),
      leaseOwner: text('leaseOwner'),
      leaseUntil: typeof item.leaseUntil === 'number' ? item.leaseUntil : 0,
      certificateArn: text('certificateArn') || undefined,
      certificate:
        state === 'COMPLETED'
          ? {
              certificatePem: text('certificatePem'),
              certificateChainPem: text('certificateChainPem'),
              serialNumber: text('serialNumber'),
              notAfter: text('notAfter'),
            }
          : undefined,
    };
  }

  /** Runs a conditional write: `true` when it applied, `false` when its condition failed. */
  private async conditional(fn: () => Promise<unknown>): Promise<boolean> {
    try {
      await this.call(fn);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  private call<T>(fn: () => Promise<T>): Promise<T> {
    return callDynamoDb(fn, this.retryAfterSeconds);
  }
}
