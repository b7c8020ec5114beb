// A node that runs only the cluster agent, for the multi-process tests: configured like the
// server (src/config.ts), it prints each lease event as a JSON line on stdout and takes commands
// as JSON lines on stdin:
//   {"cmd":"commit","tag":"t","holds":[{"partition":1,"epoch":2}]}  a commit fenced on those holds
//   {"cmd":"commit","tag":"t","partitions":[1]}                      fenced on the agent's own epochs
//   {"cmd":"stop"}                                                   graceful leave, then exit
import { createInterface } from 'node:readline';
import { NodeAgent } from '../../src/cluster/agent.js';
import { assertHolds, FencedError, type Hold } from '../../src/cluster/fencing.js';
import { migrateCluster } from '../../src/cluster/schema.js';
import { loadConfig } from '../../src/config.js';
import { connect, errorText } from '../../src/store/connection.js';
import { migrate } from '../../src/store/schema.js';

function emit(ev: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(ev) + '\n');
}

const config = loadConfig(process.env);
const sql = connect(config.databaseUrl!, { max: 2, name: `flashq-ts agent ${config.nodeId}` });
const commits = connect(config.databaseUrl!, { max: 1, name: `flashq-ts commits ${config.nodeId}` });
await migrate(sql);
await migrateCluster(sql);

const agent = new NodeAgent({
  sql,
  nodeId: config.nodeId,
  host: config.nodeHost,
  port: config.port,
  clusterPort: config.clusterPort,
  leaseTtlMs: config.leaseTtlMs,
  onGained: (partition, epoch) => emit({ ev: 'gained', partition, epoch }),
  onLost: (partition, epoch, reason) => emit({ ev: 'lost', partition, epoch, reason }),
  onLeadership: (term) => emit({ ev: 'leader', term }),
  onError: (e) => emit({ ev: 'error', error: errorText(e) }),
});

async function commit(tag: string, holds: Hold[] | undefined, partitions: number[] | undefined): Promise<void> {
  try {
    await commits.begin(async (tx) => {
      if (holds) await assertHolds(tx, config.nodeId, holds, config.leaseTtlMs);
      else await agent.fence(tx, partitions ?? []);
      await tx.unsafe('insert into cluster_probe (tag, node) values ($1, $2)', [tag, config.nodeId]);
    });
    emit({ ev: 'commit', tag, ok: true });
  } catch (e) {
    emit({ ev: 'commit', tag, ok: false, fenced: e instanceof FencedError, error: errorText(e) });
  }
}

createInterface({ input: process.stdin }).on('line', (line) => {
  const m = JSON.parse(line) as { cmd: string; tag?: string; holds?: Hold[]; partitions?: number[] };
  if (m.cmd === 'commit') void commit(m.tag ?? '', m.holds, m.partitions);
  if (m.cmd === 'stop') {
    void agent.stop().then(
      async () => {
        emit({ ev: 'stopped' });
        await Promise.all([sql.end({ timeout: 1 }), commits.end({ timeout: 1 })]);
        process.exit(0);
      },
      (e: unknown) => {
        emit({ ev: 'error', error: errorText(e) });
        process.exit(1);
      },
    );
  }
});

await agent.start();
emit({ ev: 'started', nodeId: config.nodeId, incarnation: agent.incarnation });
