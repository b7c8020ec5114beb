import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { FLAG_SECRET, NONCE_BYTES, Rec, VERSION, type RecordWriter } from './codec.js';

/**
 * The link's handshake. The origin (the connecting node) sends HELLO with a fresh nonce and its
 * id; the owner answers WELCOME with its nonce, its id and its proof; the origin checks that proof
 * and answers PROOF. Each proof is HMAC-SHA256 under CLUSTER_SECRET of a role label, both nonces
 * and both ids, so it cannot be replayed on another link nor reflected back to its sender, and the
 * secret never travels. Without a secret on both ends the same messages exchange ids and no proof.
 * The origin may pipeline requests right behind its PROOF: the owner reads nothing else first.
 */

export interface Hello {
  version: number;
  secret: boolean;
  nonce: Buffer;
  nodeId: string;
  /** HELLO: the owner id the origin means to reach ('' = any) */
  expect: string;
  /** WELCOME: the owner's proof (empty without a secret) */
  proof: Buffer;
}

const MAX_ID = 255;

export function newNonce(): Buffer {
  return randomBytes(NONCE_BYTES);
}

function idBytes(id: string): Buffer {
  const b = Buffer.from(id, 'utf8');
  if (b.length > MAX_ID) throw new Error(`node id longer than ${MAX_ID} bytes: ${id.slice(0, 40)}…`);
  return b;
}

function flags(secret: string | null): Buffer {
  return Buffer.from([VERSION, secret !== null ? FLAG_SECRET : 0]);
}

export function writeHello(w: RecordWriter, secret: string | null, nonce: Buffer, nodeId: string, expect: string): void {
  const id = idBytes(nodeId);
  const ex = idBytes(expect);
  w.control(Rec.HELLO, flags(secret), nonce, Buffer.from([id.length]), id, Buffer.from([ex.length]), ex);
}

export function writeWelcome(w: RecordWriter, secret: string | null, nonce: Buffer, nodeId: string, proof: Buffer): void {
  const id = idBytes(nodeId);
  w.control(Rec.WELCOME, flags(secret), nonce, Buffer.from([id.length]), id, proof);
}

/** HELLO or WELCOME body buf[s, e) (after the type byte); null when malformed */
export function readHello(type: Rec, buf: Buffer, s: number, e: number): Hello | null {
  if (e - s < 2 + NONCE_BYTES + 1) return null;
  const version = buf[s]!;
  const secret = (buf[s + 1]! & FLAG_SECRET) !== 0;
  const nonce = Buffer.from(buf.subarray(s + 2, s + 2 + NONCE_BYTES));
  let p = s + 2 + NONCE_BYTES;
  const idLen = buf[p++]!;
  if (p + idLen > e) return null;
  const nodeId = buf.toString('utf8', p, p + idLen);
  p += idLen;
  if (type === Rec.HELLO) {
    if (p >= e) return null;
    const exLen = buf[p++]!;
    if (p + exLen !== e) return null;
    return { version, secret, nonce, nodeId, expect: buf.toString('utf8', p, e), proof: Buffer.alloc(0) };
  }
  const proof = Buffer.from(buf.subarray(p, e));
  if (proof.length !== 0 && proof.length !== 32) return null;
  return { version, secret, nonce, nodeId, expect: '', proof };
}

/** The proof `role` ('origin' | 'owner') sends on the link between these nonces and ids. */
export function proofOf(secret: string, role: 'origin' | 'owner', originNonce: Buffer, ownerNonce: Buffer, originId: string, ownerId: string): Buffer {
  const h = createHmac('sha256', secret);
  h.update(`flashq-link/${VERSION}/${role}\0`);
  h.update(originNonce);
  h.update(ownerNonce);
  const o = Buffer.from(originId, 'utf8');
  const w = Buffer.from(ownerId, 'utf8');
  h.update(Buffer.from([o.length]));
  h.update(o);
  h.update(Buffer.from([w.length]));
  h.update(w);
  return h.digest();
}

/** Constant-time check of a received proof against the expected one. */
export function proofMatches(got: Uint8Array, want: Buffer): boolean {
  return got.length === want.length && timingSafeEqual(got, want);
}

/**
 * Why the two ends cannot talk, before any proof is checked: another protocol version, or one end
 * with a secret and the other without. null when they agree.
 */
export function mismatch(mine: string | null, myId: string, theirs: Hello): string | null {
  if (theirs.version !== VERSION) return `node ${theirs.nodeId} speaks link protocol ${theirs.version}, node ${myId} speaks ${VERSION}`;
  // worded for both ends: the refusing node sends it to the other in its GOODBYE
  if (theirs.secret && mine === null) return `node ${theirs.nodeId} authenticates with CLUSTER_SECRET, node ${myId} has none`;
  if (!theirs.secret && mine !== null) return `node ${theirs.nodeId} has no CLUSTER_SECRET, node ${myId} requires one`;
  return null;
}
