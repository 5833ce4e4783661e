import { startTelemetry } from '@reel/telemetry';

const telemetry = startTelemetry({ serviceName: 'catalog' });
const { runService } = await import('@reel/runtime');
const { configSpec } = await import('./config.ts');
const { buildApp } = await import('./app.ts');

runService({ name: 'catalog', spec: configSpec, env: process.env, build: buildApp, onStopped: telemetry.shutdown });
