import { isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { errors } from '../base/errors.js';

/**
 * Where a webhook may point. A webhook URL must not become a way to read a cloud instance's
 * credentials from its metadata service, so these are refused:
 * - link-local 169.254.0.0/16 (AWS, GCP, Azure, OpenStack metadata at 169.254.169.254) and
 *   fe80::/10;
 * - the other metadata addresses: 100.100.100.200 (Alibaba Cloud) and fd00:ec2::254 (AWS IPv6);
 * - any IPv6 spelling that carries one of those IPv4 addresses: IPv4-mapped ::ffff:a.b.c.d,
 *   IPv4-compatible ::a.b.c.d, NAT64 64:ff9b::a.b.c.d and 6to4 2002:AABB:CCDD::.
 * IPv4 hosts are compared by value, so decimal (2852039166), hex (0xA9FEA9FE), octal (0251.0376…)
 * and short (169.254.43518) forms are the same address. The rule runs on the URL when the webhook
 * is created and again at every delivery, both on the URL and on every address its name resolves
 * to at that moment (a DNS name that later points there is refused too). Redirects are never
 * followed: a 3xx answer is a failed attempt. Only http and https; no credentials in the URL.
 * Loopback and private networks stay allowed (receivers often run beside the server).
 */

const MAX_URL = 2048;

export function checkTargetUrl(raw: string): URL {
  if (raw.length === 0 || raw.length > MAX_URL) throw errors.badRequest(`Invalid field "url": expected 1..${MAX_URL} characters`);
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw errors.badRequest('Invalid field "url": not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw errors.badRequest(`Invalid field "url": scheme ${url.protocol.replace(/:$/, '')} is not allowed (http or https only)`);
  }
  if (url.username !== '' || url.password !== '') throw errors.badRequest('Invalid field "url": credentials in the URL are not allowed');
  const why = refusedAddress(hostOf(url));
  if (why !== null) throw errors.badRequest(`Invalid field "url": ${why}`);
  return url;
}

/** The URL's host without IPv6 brackets (WHATWG URL has already normalised IPv4 forms like 0xA9FEA9FE). */
export function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

const ALIBABA_METADATA = ipv4(100, 100, 100, 200);
const AWS_METADATA_V6 = [0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254];

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

function refusedV4(v: number): string | null {
  if (v >>> 16 === 0xa9fe) return 'link-local addresses (169.254.0.0/16) are not allowed';
  if (v === ALIBABA_METADATA) return 'cloud metadata addresses are not allowed';
  return null;
}

/** Why a host (an IP address in any spelling, or a name) may not be a webhook target, or null. */
export function refusedAddress(host: string): string | null {
  const v4 = parseIPv4(host);
  if (v4 !== null) return refusedV4(v4);
  if (isIP(host) !== 6) return null;
  const g = ipv6Groups(host);
  if (g === null) return null;
  if ((g[0]! & 0xffc0) === 0xfe80) return 'link-local addresses (fe80::/10) are not allowed';
  if (g.every((x, i) => x === AWS_METADATA_V6[i])) return 'cloud metadata addresses are not allowed';
  const embedded = embeddedIPv4(g);
  return embedded === null ? null : refusedV4(embedded);
}

/** 169.254.0.0/16, fe80::/10, the metadata addresses, in any spelling (see above). */
export function isLinkLocal(host: string): boolean {
  return refusedAddress(host) !== null;
}

/** The IPv4 address an IPv6 address carries (mapped, compatible, NAT64, 6to4), or null. */
function embeddedIPv4(g: number[]): number | null {
  const tail = ((g[6]! << 16) | g[7]!) >>> 0;
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && (g[5] === 0xffff || g[5] === 0)) return tail;
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return tail;
  if (g[0] === 0x2002) return ((g[1]! << 16) | g[2]!) >>> 0;
  return null;
}

/**
 * An IPv4 address as inet_aton reads it (1 to 4 parts, each decimal, 0x hex or 0 octal, the last
 * part filling the remaining bytes), or null when `host` is not one.
 */
export function parseIPv4(host: string): number | null {
  const parts = host.split('.');
  if (parts.length > 4 || parts.some((p) => p.length === 0)) return null;
  const nums: number[] = [];
  for (const p of parts) {
    let n: number;
    if (/^0x[0-9a-f]*$/i.test(p)) n = p.length === 2 ? 0 : parseInt(p.slice(2), 16);
    else if (/^0[0-7]+$/.test(p)) n = parseInt(p, 8);
    else if (/^(0|[1-9][0-9]*)$/.test(p)) n = Number(p);
    else return null;
    if (!Number.isSafeInteger(n)) return null;
    nums.push(n);
  }
  const last = nums.pop()!;
  if (nums.some((n) => n > 255) || last >= 2 ** (8 * (4 - nums.length))) return null;
  let v = 0;
  for (const n of nums) v = v * 256 + n;
  return v * 2 ** (8 * (4 - nums.length)) + last;
}

/** The 8 16-bit groups of a valid IPv6 address (a dotted IPv4 tail becomes two groups). */
function ipv6Groups(host: string): number[] | null {
  let h = host.toLowerCase();
  const zone = h.indexOf('%');
  if (zone >= 0) h = h.slice(0, zone);
  const dot = h.lastIndexOf(':');
  const tail = h.slice(dot + 1);
  if (tail.includes('.')) {
    const o = tail.split('.').map(Number);
    h = `${h.slice(0, dot + 1)}${((o[0]! << 8) | o[1]!).toString(16)}:${((o[2]! << 8) | o[3]!).toString(16)}`;
  }
  const halves = h.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const rest = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const missing = 8 - head.length - rest.length;
  if (missing < 0 || (halves.length === 1 && missing !== 0)) return null;
  return [...head, ...new Array<string>(missing).fill('0'), ...rest].map((x) => parseInt(x, 16));
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;
type Resolve = (hostname: string, options: LookupOptions, callback: LookupCallback) => void;

/** A dns.lookup for http.request that refuses names resolving to a refused address (see above). */
export function guardedLookup(resolve: Resolve): Resolve {
  return (hostname, options, callback) => {
    resolve(hostname, { ...options }, (err, address, family) => {
      if (err) return callback(err, address, family);
      const list = Array.isArray(address) ? address.map((a) => a.address) : [address];
      const bad = list.find((a) => refusedAddress(a) !== null);
      if (bad !== undefined) {
        const e: NodeJS.ErrnoException = new Error(`webhook target ${hostname} resolves to ${bad}: ${refusedAddress(bad)}`);
        e.code = 'EACCES';
        return callback(e, address, family);
      }
      callback(null, address, family);
    });
  };
}

export const safeLookup: Resolve = guardedLookup(dnsLookup as unknown as Resolve);
