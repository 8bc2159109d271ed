import { schedule, type ScheduledTask } from 'node-cron';
import type { Config } from '../config/types.ts';
import type { Logger } from '../log.ts';
import type { CheckpointService } from './checkpoint-service.ts';

/** Runs each remote's checkpoint schedule. Overlap is prevented by the service (one run per remote, lock across nodes). */
export function startCheckpointSchedules(config: Config, service: CheckpointService, log: Logger): () => void {
  const tasks: ScheduledTask[] = [];
  for (const remote of config.remotes.values()) {
    const expr = remote.checkpoints?.schedule;
    if (!expr || remote.unavailable) continue;
    tasks.push(schedule(expr, async () => {
      try {
        await service.create(remote.name);
      } catch {
        // logged by the service; the last good checkpoint stays and the next run tries again
      }
    }, { name: `checkpoint:${remote.name}`, noOverlap: true }));
    log.info('checkpoint schedule', { remote: remote.name, schedule: expr });
  }
  return () => { for (const t of tasks) void t.stop(); };
}
