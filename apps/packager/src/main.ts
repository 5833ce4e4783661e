import { startTelemetry } from '@reel/telemetry';

const telemetry = startTelemetry({ serviceName: 'packager' });
const { runService } = await import('@reel/runtime');
const { configSpec } = await import('./config.ts');
const { buildApp } = await import('./app.ts');

runService({ name: 'packager', spec: configSpec, env: process.env, build: buildApp, onStopped: telemetry.shutdown });
