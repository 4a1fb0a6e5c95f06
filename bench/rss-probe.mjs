// Preloaded into the CLI process by cli-csv-jsonl.mjs: records the process's peak RSS (KiB) on exit.
import { writeFileSync } from 'node:fs';

const out = process.env.FAUCET_BENCH_RSS_FILE;
if (out) process.on('exit', () => writeFileSync(out, String(process.resourceUsage().maxRSS)));
