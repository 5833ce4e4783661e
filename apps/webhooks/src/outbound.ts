import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/** A webhook URL this service will not call: wrong scheme, unresolvable, or an internal address. */
export class OutboundRefusedError extends Error {
  override name = 'OutboundRefusedError';
}
export const isOutboundRefusedError = (err: unknown): err is OutboundRefusedError => err instanceof OutboundRefusedError;

/** Loopback, private, link-local (which holds 169.254.169.254, the cloud metadata address), CGNAT, multicast, unspecified. */
const internal = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  internal.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7], // unique local, which holds AWS's fd00:ec2::254
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  internal.addSubnet(net, prefix, 'ipv6');

/** Whether `address` is one a webhook must not reach (IPv4-mapped IPv6 is checked as IPv4). */
export function isInternalAddress(address: string): boolean {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped?.[1]) return internal.check(mapped[1], 'ipv4');
  const family = isIP(address);
  if (family === 4) return internal.check(address, 'ipv4');
  if (family === 6) return internal.check(address, 'ipv6');
  return true;
}

export interface Target {
  url: URL;
  /** The address the request is sent to: the one checked, so a DNS answer cannot change in between. */
  address: string;
  family: 4 | 6;
}

/**
 * Checks a webhook URL now: http or https only, the host resolved, and every address it resolves
 * to outside internal networks unless `allowPrivate`. Called at creation and before every attempt.
 */
export async function resolveTarget(raw: string, allowPrivate: boolean): Promise<Target> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new OutboundRefusedError('the webhook URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new OutboundRefusedError('the webhook URL must be http or https');
  if (url.username || url.password) throw new OutboundRefusedError('the webhook URL must not carry credentials');
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let addresses: { address: string; family: number }[];
  try {
    addresses = isIP(host) ? [{ address: host, family: isIP(host) }] : await lookup(host, { all: true, verbatim: true });
  } catch (err) {
    throw new OutboundRefusedError(`the webhook host ${host} does not resolve`, { cause: err });
  }
  const first = addresses[0];
  if (!first) throw new OutboundRefusedError(`the webhook host ${host} does not resolve`);
  if (!allowPrivate) {
    const blocked = addresses.find((a) => isInternalAddress(a.address));
    if (blocked) throw new OutboundRefusedError(`the webhook host ${host} resolves to an internal address (${blocked.address})`);
  }
  return { url, address: first.address, family: first.family === 6 ? 6 : 4 };
}
