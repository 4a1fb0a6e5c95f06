/** The dashboard's errors: FaucetError subclasses with stable codes. */
import { FaucetError } from '@faucet/core';

/** The dashboard's port is taken: names host:port and, when given, the flag that chooses another. */
export class DashboardPortInUseError extends FaucetError {
  readonly address: string;

  constructor(address: string, flag: string | undefined, options: { cause?: unknown } = {}) {
    const hint = flag ? `; choose another with ${flag}` : '';
    super(`cannot serve the dashboard on ${address}: the port is in use${hint}`, {
      code: 'DASHBOARD_PORT_IN_USE',
      ...options,
    });
    this.address = address;
  }
}
