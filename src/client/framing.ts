/**
 * The two TCP framings (compat.md, "TCP"): JSON lines, and 4-byte big-endian length + one
 * MessagePack map. The server detects the framing from the first byte we send, so encoder and
 * decoder of one connection always agree.
 */
import { Packr, Unpackr, RESERVE_START_SPACE } from 'msgpackr';

export type Framing = 'json' | 'msgpack';

/**
 * Plain maps on the wire (records are a msgpackr-only extension the server does not read);
 * `undefined` fields dropped as JSON.stringify drops them; 64-bit integers read as numbers,
 * as JSON.parse would.
 */
const packOptions = { useRecords: false, skipValues: [undefined] }; // skipValues is missing from msgpackr's typings
const packr = new Packr(packOptions);
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: 'number' });

/** Encodes one command as a JSON line. Throws on values JSON cannot encode (BigInt, cycles). */
export function encodeJson(cmd: object): string {
  return JSON.stringify(cmd) + '\n';
}

/**
 * Encodes one command as a length-prefixed MessagePack frame. msgpackr reserves the 4 header bytes
 * in front of the map it writes, so the frame is built without a second copy.
 */
export function encodeMsgpack(cmd: object): Buffer {
  const frame = packr.pack(cmd, RESERVE_START_SPACE | 4);
  frame.writeUInt32BE(frame.length - 4, 0);
  return frame;
}

export interface Decoder {
  /** Feed received bytes (a string for JSON: the socket decodes UTF-8 across chunk borders). */
  push(chunk: string | Buffer): void;
  /** Forget a partial message (after a reconnect the new stream starts clean). */
  reset(): void;
}

type OnMessage = (msg: unknown) => void;

/**
 * Splits JSON lines. A chunk holding whole lines is sliced in place; only a line spanning chunks
 * is assembled, from its pieces, once its end arrives, so a large answer is not re-copied per chunk.
 */
export class JsonLineDecoder implements Decoder {
  private parts: string[] = [];

  constructor(private readonly onMessage: OnMessage) {}

  push(chunk: string | Buffer): void {
    const text = typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    let nl = text.indexOf('\n');
    if (nl === -1) {
      this.parts.push(text);
      return;
    }
    let start = 0;
    if (this.parts.length > 0) {
      this.parts.push(text.slice(0, nl));
      const line = this.parts.join('');
      this.parts = [];
      this.line(line);
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    while (nl !== -1) {
      this.line(text.slice(start, nl));
      start = nl + 1;
      nl = text.indexOf('\n', start);
    }
    if (start < text.length) this.parts.push(text.slice(start));
  }

  reset(): void {
    this.parts = [];
  }

  private line(line: string): void {
    // blank lines (and a lone '\r') carry nothing; JSON.parse treats '\r' as whitespace
    if (line.length === 0 || (line.length === 1 && line.charCodeAt(0) === 13)) return;
    this.onMessage(JSON.parse(line));
  }
}

/**
 * Splits length-prefixed MessagePack frames. Whole frames are decoded straight from the chunk;
 * a frame spanning chunks is collected and concatenated once, when complete.
 */
export class MsgpackFrameDecoder implements Decoder {
  private parts: Buffer[] = [];
  private partsLen = 0;
  /** total bytes (header included) of the frame being collected; -1 while its header is incomplete */
  private need = -1;

  constructor(private readonly onMessage: OnMessage) {}

  push(chunk: string | Buffer): void {
    let buf = typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk;
    let off = 0;
    if (this.partsLen > 0) {
      if (this.need === -1) {
        // the header itself was split: borrow just enough bytes to read it
        const take = Math.min(4 - this.partsLen, buf.length);
        this.parts.push(buf.subarray(0, take));
        this.partsLen += take;
        off = take;
        if (this.partsLen < 4) return;
        this.need = 4 + Buffer.concat(this.parts, 4).readUInt32BE(0);
      }
      const missing = this.need - this.partsLen;
      if (buf.length - off < missing) {
        this.parts.push(buf.subarray(off));
        this.partsLen += buf.length - off;
        return;
      }
      this.parts.push(buf.subarray(off, off + missing));
      const frame = Buffer.concat(this.parts, this.need);
      off += missing;
      this.parts = [];
      this.partsLen = 0;
      this.need = -1;
      this.onMessage(unpackr.unpack(frame.subarray(4)));
    }
    while (buf.length - off >= 4) {
      const len = buf.readUInt32BE(off);
      if (buf.length - off - 4 < len) break;
      this.onMessage(unpackr.unpack(buf.subarray(off + 4, off + 4 + len)));
      off += 4 + len;
    }
    if (off < buf.length) {
      // keep a view, not a copy; the socket hands us a fresh buffer per chunk
      buf = buf.subarray(off);
      this.parts.push(buf);
      this.partsLen = buf.length;
      this.need = buf.length >= 4 ? 4 + buf.readUInt32BE(0) : -1;
    }
  }

  reset(): void {
    this.parts = [];
    this.partsLen = 0;
    this.need = -1;
  }
}

export function createDecoder(framing: Framing, onMessage: OnMessage): Decoder {
  return framing === 'json' ? new JsonLineDecoder(onMessage) : new MsgpackFrameDecoder(onMessage);
}
