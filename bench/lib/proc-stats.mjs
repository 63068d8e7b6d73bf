// Shared by the benchmarks: a server process's memory and CPU from outside (Linux /proc, else ps),
// and "start-up work has finished", decided by watching both.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let clockTicks;
/** USER_HZ of /proc/<pid>/stat (100 on every common Linux; asked once). */
function ticksPerSecond() {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** Resident set size of a process in MB (VmRSS from /proc, else `ps -o rss=`). */
export function rssMb(pid) {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    if (kb) return Number(kb) / 1024;
  } catch {
    // not Linux, or the process is gone
  }
  return Number(execFileSync('ps', ['-o', 'rss=', '-p', String(pid)], { encoding: 'utf8' }).trim()) / 1024;
}

/** CPU seconds (user + system, all threads) a process used so far; NaN where /proc is missing. */
export function cpuSeconds(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // fields after the command name, which is in parentheses and may hold spaces
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
  } catch {
    return NaN;
  }
}

/**
 * Wait until the process has finished its start-up work: over the last `windowMs` its RSS moved
 * by at most `rssTolMb` and it used at most `cpuShare` of one core (sampled every `intervalMs`).
 * Resolves `{ rssMb, afterMs, quietFromMs, settled }`: `afterMs` when the call returned,
 * `quietFromMs` where the quiet window began (both from the call); `settled` is false when
 * `timeoutMs` passed first (the RSS is then the last sample). Off Linux only the RSS is watched.
 */
export async function waitSettled(pid, { windowMs = 3000, intervalMs = 250, rssTolMb = 1, cpuShare = 0.05, timeoutMs = 60_000 } = {}) {
  const started = performance.now();
  const samples = [];
  for (;;) {
    const now = performance.now();
    samples.push({ at: now, rss: rssMb(pid), cpu: cpuSeconds(pid) });
    while (samples.length > 1 && now - samples[1].at >= windowMs) samples.shift();
    const first = samples[0];
    if (now - first.at >= windowMs) {
      const rss = samples.map((s) => s.rss);
      const cpu = (samples.at(-1).cpu - first.cpu) / ((now - first.at) / 1000);
      const quiet = Number.isNaN(cpu) || cpu <= cpuShare;
      if (Math.max(...rss) - Math.min(...rss) <= rssTolMb && quiet) return { rssMb: rss.at(-1), afterMs: now - started, quietFromMs: first.at - started, settled: true };
    }
    if (now - started > timeoutMs) return { rssMb: samples.at(-1).rss, afterMs: now - started, quietFromMs: NaN, settled: false };
    await sleep(intervalMs);
  }
}

/** Sample `fn()` every `intervalMs` until `stop()` is called; resolves the samples. */
export function sampleEvery(intervalMs, fn) {
  const values = [];
  const timer = setInterval(() => values.push(fn()), intervalMs);
  values.push(fn());
  return {
    values,
    stop: () => {
      clearInterval(timer);
      values.push(fn());
      return values;
    },
  };
}

export function median(values) {
  const sorted = [...values].filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}
