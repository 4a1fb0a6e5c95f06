/**
 * Counts with thousands separators ("1,234,567"), as `toLocaleString('en-US')` writes them, without
 * ICU: the first locale-aware call loads ICU's locale data, 12–35 ms and about 7 MiB of RSS on this
 * machine (BENCHMARKS.md, "Start-up and memory"), which every `faucet run` paid for its summary line.
 */
export function formatCount(n: number): string {
  const rounded = Math.round(n);
  if (!Number.isSafeInteger(rounded)) return rounded.toLocaleString('en-US');
  const digits = String(Math.abs(rounded));
  const head = digits.length % 3 || 3;
  let out = digits.slice(0, head);
  for (let i = head; i < digits.length; i += 3) out += `,${digits.slice(i, i + 3)}`;
  return rounded < 0 ? `-${out}` : out;
}
