import { closeSync, openSync, writeSync } from 'node:fs';

/** Writes `bytes` of random data (incompressible, unlike zeros) to `path`, 8 MiB at a time; returns `path`. */
export function writeRandomFile(path: string, bytes: number): string {
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(8 * 1024 * 1024);
  try {
    for (let off = 0; off < bytes; off += block.length) {
      for (let i = 0; i < block.length; i += 4) block.writeUInt32LE((Math.random() * 0x1_0000_0000) >>> 0, i);
      writeSync(fd, block, 0, Math.min(block.length, bytes - off));
    }
  } finally {
    closeSync(fd);
  }
  return path;
}
