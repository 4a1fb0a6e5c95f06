/**
 * @faucet/dashboard-bullmq: Bull Board, read-only, on 127.0.0.1, for the BullMQ queue that
 * `faucet run --queue` fills and `faucet worker` takes from. The CLI imports it only for
 * `faucet dashboard` and `faucet worker --dashboard-port`.
 */
export { type Dashboard, type DashboardOptions, startDashboard } from './dashboard.js';
export { DashboardPortInUseError } from './errors.js';
export { DASHBOARD_HOST } from './server.js';
