/**
 * The baseline of `npm run bench:api`: a bare Fastify route answering the JSON given on stdin,
 * in a process of its own like the gateway. Prints its port once listening.
 */
import Fastify from 'fastify';

const chunks: Buffer[] = [];
for await (const c of process.stdin) chunks.push(c as Buffer);
const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown;
const app = Fastify({ logger: false });
app.get('/v1/videos/:id', async () => body);
await app.listen({ host: '127.0.0.1', port: 0 });
const address = app.server.address();
process.stdout.write(`${typeof address === 'object' && address ? address.port : 0}\n`);
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
