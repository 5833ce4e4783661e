import t from 'tap';

t.test('importing the stack registers no signal handler (only starting servers does)', async (t) => {
  const before = process.listenerCount('SIGTERM');
  const stack = await import('../src/mod.ts');
  t.equal(process.listenerCount('SIGTERM'), before);
  t.type(stack.uploadFile, 'function', 'the test clients are still exported from @reel/stack');
  t.type(stack.waitForVideo, 'function');
  t.type(stack.makeClip, 'function');
});
