/** Entry of the rotateCertificate step: AWS IoT (the rotation job) and DynamoDB (the ECU registry). */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { RegistryAdapter } from '../adapters/registry.js';
import type { RemediationState } from '../plan.js';
import { advance } from '../state.js';
import { rotateCertificate as rotateUseCase } from '../steps/rotate-certificate.js';
import { iot } from './iot.js';
import { clientConfig, clock, config, on, once, record } from './runtime.js';

const dynamoClient = once(() => new DynamoDBClient(clientConfig));

export const rotateCertificate = on<unknown, RemediationState>((input) =>
  advance('rotateCertificate', input, async (state) => {
    const c = config('rotateCertificate');
    const registry = new RegistryAdapter(dynamoClient(), c.registryTable ?? '');
    return record(await rotateUseCase(state, { iot: iot('rotateCertificate'), registry, clock }));
  }),
);
