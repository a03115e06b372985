/** Entry of the quarantine step (AWS IoT only). */
import type { RemediationState } from '../plan.js';
import { advance } from '../state.js';
import { quarantine as quarantineUseCase } from '../steps/quarantine.js';
import { iot } from './iot.js';
import { config, on, record } from './runtime.js';

export const quarantine = on<unknown, RemediationState>((input) =>
  advance('quarantine', input, async (state) => {
    const c = config('quarantine');
    return record(
      await quarantineUseCase(state, {
        iot: iot('quarantine'),
        quarantineGroup: c.quarantineGroup ?? '',
        quarantinePolicy: c.quarantinePolicy ?? '',
      }),
    );
  }),
);
