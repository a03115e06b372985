import { describe, expect, it } from 'vitest';
import { createLogger, createMetrics, eventHandler } from '../src/index.js';
import { captureOutput, lambdaContext } from './fixtures.js';
import { makeSecrets } from './secrets.js';

const secrets = makeSecrets();

describe('eventHandler', () => {
  const out = captureOutput();
  const logger = createLogger({ serviceName: 'jitr-handler' });
  const metrics = createMetrics({ serviceName: 'jitr-handler', logger });

  it('returns the handler result and tags logs with the event id as correlation id', async () => {
    const handler = eventHandler<{ id: string; n: number }, number>(
      async (event) => {
        logger.info('working');
        return event.n * 2;
      },
      { logger, metrics },
    );

    const result = await handler({ id: 'evt-1234', n: 21 }, lambdaContext());

    expect(result).toBe(42);
    expect(out.lines().find((l) => l.message === 'working')).toMatchObject({ correlation_id: 'evt-1234' });
  });

  it('falls back to the Lambda request id when the event has no usable id', async () => {
    const handler = eventHandler<unknown, void>(
      async () => {
        logger.info('working');
      },
      { logger, metrics },
    );
    await handler({ Records: [] }, lambdaContext('lambda-id-1'));
    await handler('raw', lambdaContext('lambda-id-2'));
    const ids = out
      .lines()
      .filter((l) => l.message === 'working')
      .map((l) => l.correlation_id);
    expect(ids).toEqual(['lambda-id-1', 'lambda-id-2']);
  });

  it("rethrows an expected answer (an authorizer's Unauthorized) without an ERROR line; others still get one", async () => {
    const denial = new Error('Unauthorized');
    const crash = new Error('Unauthorized, but a TypeError underneath');
    const handler = eventHandler<{ id: string; error: Error }, void>(
      async (event) => {
        throw event.error;
      },
      { logger, metrics, expected: (e) => e === denial },
    );

    await expect(handler({ id: 'evt-401', error: denial }, lambdaContext())).rejects.toBe(denial);
    expect(out.lines().filter((l) => l.message === 'invocation failed')).toHaveLength(0);

    await expect(handler({ id: 'evt-500', error: crash }, lambdaContext())).rejects.toBe(crash);
    expect(out.lines().filter((l) => l.message === 'invocation failed')).toMatchObject([
      { level: 'ERROR', correlation_id: 'evt-500' },
    ]);
  });

  it('logs the failure redacted and rethrows the same error so the invocation is retried', async () => {
    const failure = new Error(`OCSP responder unreachable; token=${secrets.opaque}`);
    const handler = eventHandler<unknown, void>(
      async () => {
        throw failure;
      },
      { logger, metrics },
    );

    await expect(handler({ id: 'evt-2' }, lambdaContext())).rejects.toBe(failure);

    expect(out.lines().find((l) => l.message === 'invocation failed')).toMatchObject({
      level: 'ERROR',
      correlation_id: 'evt-2',
      error: { name: 'Error' },
    });
    expect(out.text()).not.toContain(secrets.opaque);
  });
});
