/** @reel/telemetry — the OpenTelemetry bootstrap every app starts before its own code. */
export * from './telemetry.ts';
export * from './span.ts';
