import { startTelemetry } from '@reel/telemetry';

const telemetry = startTelemetry({ serviceName: 'gateway' });
const { runService } = await import('@reel/runtime');
const { configSpec } = await import('./config.ts');
const { startGateway } = await import('./server.ts');

runService({ name: 'gateway', spec: configSpec, env: process.env, build: startGateway, onStopped: telemetry.shutdown });
