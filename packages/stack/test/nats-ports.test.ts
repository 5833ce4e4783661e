import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t from 'tap';

// A port chosen free can be taken by another process (another test's server, an outgoing
// connection's local port) before nats-server binds it: CI saw a cluster node exit with "address
// already in use" and the test file fail. A cluster's first start chooses its ports again.
const dir = mkdtempSync(join(tmpdir(), 'reel-nats-ports-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('a cluster whose chosen port was taken meanwhile starts with other ports', async (t) => {
  // a port held by this process, with every connection to it closed at the end
  const sockets = new Set<Socket>();
  const holder = createServer((s) => sockets.add(s));
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    holder.close();
  });
  const port = (holder.address() as { port: number }).port;
  // freePort hands out seven free ports, then the held one: the third node's cluster port (each
  // node has three: client, cluster, monitor), then free ones again
  const real = await import('../src/ports.ts');
  const queue = [...(await Promise.all(Array.from({ length: 7 }, () => real.freePort()))), port];
  const { natsCluster } = (await t.mockImport('../src/nats-server.ts', {
    '../src/ports.ts': { ...real, freePort: async () => queue.shift() ?? real.freePort() },
  })) as typeof import('../src/nats-server.ts');
  const lines: string[] = [];
  const cluster = natsCluster({ dir, size: 3, log: (node, l) => lines.push(`${node}: ${l}`) });
  t.teardown(() => cluster.down());
  await cluster.up();
  t.match(lines.join('\n'), /address already in use/i, 'the first try did clash');
  t.ok(await cluster.health(), 'the cluster is up with a JetStream leader');
  t.notMatch(cluster.url, `:${port}`, 'on other ports');
});
