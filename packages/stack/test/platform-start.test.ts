import t from 'tap';
import { startTestPlatform } from '../src/testing.ts';

// An app that cannot start fails startTestPlatform at once, and the error carries what the app said.
t.test('an app that exits while starting fails the start with its own last lines', async (t) => {
  const started = Date.now();
  await t.rejects(
    startTestPlatform(t.teardown, { apps: ['catalog'], env: { UPLOAD_SWEEP_INTERVAL_SEC: 'often' } }),
    /catalog exited with code 1 before the platform was healthy; its last lines:[\s\S]*UPLOAD_SWEEP_INTERVAL_SEC/,
  );
  t.ok(Date.now() - started < 45_000, 'at once, not after the 60 s health wait');
});
