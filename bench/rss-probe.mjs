// Preloaded into the CLI process by the bench scripts: records the process's peak RSS (KiB) on exit,
// and, when FAUCET_BENCH_CPU_FILE is set, its CPU time (user + system, seconds) there too.
import { writeFileSync } from 'node:fs';

const out = process.env.FAUCET_BENCH_RSS_FILE;
const cpu = process.env.FAUCET_BENCH_CPU_FILE;
process.on('exit', () => {
  const usage = process.resourceUsage();
  if (out) writeFileSync(out, String(usage.maxRSS));
  if (cpu) writeFileSync(cpu, String((usage.userCPUTime + usage.systemCPUTime) / 1e6));
});
