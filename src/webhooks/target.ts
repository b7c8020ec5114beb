import { isIP } from 'node:net';
import { lookup as dnsLookup, type LookupAddress, type LookupOptions } from 'node:dns';
import { errors } from '../base/errors.js';

/**
 * Where a webhook may point. Link-local 169.254.0.0/16 is refused because cloud metadata services
 * live there (a webhook URL must not become a way to read instance credentials); the check runs on
 * the URL at creation and again on every resolved address at delivery, so a DNS name that later
 * resolves there is refused too. Only http and https.
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
  if (isLinkLocal(hostOf(url))) throw errors.badRequest('Invalid field "url": link-local addresses (169.254.0.0/16) are not allowed');
  return url;
}

/** The URL's host without IPv6 brackets (WHATWG URL has already normalised IPv4 forms like 0xA9FEA9FE). */
export function hostOf(url: URL): string {
  const h = url.hostname;
  return h.startsWith('[') && h.endsWith(']') ? h.slice(1, -1) : h;
}

/** 169.254.0.0/16, IPv6 link-local fe80::/10, and IPv4-mapped/compatible forms of the former. */
export function isLinkLocal(host: string): boolean {
  const kind = isIP(host);
  if (kind === 4) return host.startsWith('169.254.');
  if (kind !== 6) return false;
  const g = ipv6Groups(host);
  if (g === null) return false;
  if ((g[0]! & 0xffc0) === 0xfe80) return true;
  const v4Tail = g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && (g[5] === 0xffff || g[5] === 0);
  return v4Tail && g[6] === 0xa9fe;
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

/** dns.lookup for http.request that refuses link-local answers (see above). */
export function safeLookup(hostname: string, options: LookupOptions, callback: LookupCallback): void {
  dnsLookup(hostname, { ...options }, (err, address: string | LookupAddress[], family?: number) => {
    if (err) return callback(err, address, family);
    const list = Array.isArray(address) ? address.map((a) => a.address) : [address];
    if (list.some(isLinkLocal)) {
      const e: NodeJS.ErrnoException = new Error(`webhook target ${hostname} resolves to a link-local address`);
      e.code = 'EACCES';
      return callback(e, address, family);
    }
    callback(null, address, family);
  });
}
