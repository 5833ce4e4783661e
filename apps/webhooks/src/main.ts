import { startTelemetry } from '@reel/telemetry';

const telemetry = startTelemetry({ serviceName: 'webhooks' });
const { runService } = await import('@reel/runtime');
const { configSpec } = await import('./config.ts');
const { buildApp } = await import('./app.ts');

runService({ name: 'webhooks', spec: configSpec, env: process.env, build: buildApp, onStopped: telemetry.shutdown });
