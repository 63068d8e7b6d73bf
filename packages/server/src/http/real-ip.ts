import { BlockList, isIP } from 'node:net';

const NON_PUBLIC = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16],
  ['172.16.0.0', 12], ['192.0.0.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['224.0.0.0', 3],
] as const) NON_PUBLIC.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [['::', 127], ['fc00::', 7], ['fe80::', 10], ['ff00::', 8]] as const) {
  NON_PUBLIC.addSubnet(net, bits, 'ipv6');
}

const FORWARDING_HEADERS = ['x-real-ip', 'x-forwarded-for', 'cf-connecting-ip'] as const;

function stripMappedV4(ip: string): string {
  return ip.startsWith('::ffff:') && isIP(ip.slice(7)) === 4 ? ip.slice(7) : ip;
}

function isPublic(ip: string): boolean {
  const family = isIP(ip);
  return family !== 0 && !NON_PUBLIC.check(ip, family === 4 ? 'ipv4' : 'ipv6');
}

/** Client-address resolution: forwarding headers count only from trusted proxies (compat 3.1). */
export class RealIpResolver {
  private readonly trusted: BlockList | undefined;

  constructor(trustedCidrs: readonly string[]) {
    if (trustedCidrs.length === 0) return;
    this.trusted = new BlockList();
    for (const cidr of trustedCidrs) {
      const [ip, bits] = cidr.split('/') as [string, string];
      this.trusted.addSubnet(ip, Number(bits), isIP(ip) === 6 ? 'ipv6' : 'ipv4');
    }
  }

  /** The effective client IP; drops forwarding headers sent by untrusted peers. */
  resolve(socketAddress: string | undefined, headers: Record<string, string | string[] | undefined>): string {
    const peer = stripMappedV4(socketAddress ?? '');
    const peerTrusted = this.trusted !== undefined && isIP(peer) !== 0 && this.trusted.check(peer, isIP(peer) === 6 ? 'ipv6' : 'ipv4');
    if (!peerTrusted) {
      for (const h of FORWARDING_HEADERS) if (headers[h] !== undefined) delete headers[h];
      return peer;
    }
    for (const h of ['x-forwarded-for', 'x-real-ip'] as const) {
      const value = headers[h];
      if (typeof value !== 'string') continue;
      const parts = value.split(',');
      for (let i = parts.length - 1; i >= 0; i--) {
        const ip = stripMappedV4((parts[i] as string).trim());
        if (isPublic(ip)) return ip;
      }
    }
    return peer;
  }
}
