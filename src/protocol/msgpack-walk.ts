/**
 * Byte-level MessagePack walking without decoding: skip values by their type byte, read the few
 * scalars routing needs. Tolerant like json-walk: -1 on truncated or invalid bytes.
 */


function u16(b: Uint8Array, i: number): number {
  return (b[i]! << 8) | b[i + 1]!;
}

function u32(b: Uint8Array, i: number): number {
  return ((b[i]! << 24) >>> 0) + ((b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!);
}

/** i at a value's type byte; the index after the value, or -1. */
export function skipMsgpack(b: Uint8Array, i: number, end: number): number {
  // One counter of values still to skip replaces a stack: a container adds its children.
  let pending = 1;
  while (pending > 0) {
    if (i >= end) return -1;
    const t = b[i++]!;
    pending--;
    if (t < 0x80 || t >= 0xe0) continue;
    if (t < 0x90) {
      pending += (t & 0x0f) * 2;
      continue;
    }
    if (t < 0xa0) {
      pending += t & 0x0f;
      continue;
    }
    if (t < 0xc0) {
      i += t & 0x1f;
      continue;
    }
    switch (t) {
      case 0xc0:
      case 0xc2:
      case 0xc3:
        break;
      case 0xc4:
      case 0xd9:
        if (i + 1 > end) return -1;
        i += 1 + b[i]!;
        break;
      case 0xc5:
      case 0xda:
        if (i + 2 > end) return -1;
        i += 2 + u16(b, i);
        break;
      case 0xc6:
      case 0xdb:
        if (i + 4 > end) return -1;
        i += 4 + u32(b, i);
        break;
      case 0xc7:
        if (i + 1 > end) return -1;
        i += 2 + b[i]!;
        break;
      case 0xc8:
        if (i + 2 > end) return -1;
        i += 3 + u16(b, i);
        break;
      case 0xc9:
        if (i + 4 > end) return -1;
        i += 5 + u32(b, i);
        break;
      case 0xcc:
      case 0xd0:
        i += 1;
        break;
      case 0xcd:
      case 0xd1:
        i += 2;
        break;
      case 0xca:
      case 0xce:
      case 0xd2:
        i += 4;
        break;
      case 0xcb:
      case 0xcf:
      case 0xd3:
        i += 8;
        break;
      case 0xd4:
        i += 2;
        break;
      case 0xd5:
        i += 3;
        break;
      case 0xd6:
        i += 5;
        break;
      case 0xd7:
        i += 9;
        break;
      case 0xd8:
        i += 17;
        break;
      case 0xdc:
        if (i + 2 > end) return -1;
        pending += u16(b, i);
        i += 2;
        break;
      case 0xdd:
        if (i + 4 > end) return -1;
        pending += u32(b, i);
        i += 4;
        break;
      case 0xde:
        if (i + 2 > end) return -1;
        pending += 2 * u16(b, i);
        i += 2;
        break;
      case 0xdf:
        if (i + 4 > end) return -1;
        pending += 2 * u32(b, i);
        i += 4;
        break;
      default:
        return -1; // 0xc1 is never used
    }
  }
  return i <= end ? i : -1;
}

/**
 * The readers that return a position beside their value (`next`); one walker per owner, so
 * walks of different owners can interleave.
 */
export class MsgpackWalk {
  /** readStr: end of the string bytes; readNumber / readMapHeader: index after the header or number */
  next = 0;
  // Floats are rare here (an id sent as 5.0); copy them into scratch bytes rather than allocate a view.
  private readonly floatBytes = new Uint8Array(8);
  private readonly floatView = new DataView(this.floatBytes.buffer);

  /** i at a map's type byte: its entry count (and this.next = first key), or -1 when not a map. */
  readMapHeader(b: Uint8Array, i: number, end: number): number {
    if (i >= end) return -1;
    const t = b[i]!;
    if (t >= 0x80 && t < 0x90) {
      this.next = i + 1;
      return t & 0x0f;
    }
    if (t === 0xde && i + 3 <= end) {
      this.next = i + 3;
      return u16(b, i + 1);
    }
    if (t === 0xdf && i + 5 <= end) {
      this.next = i + 5;
      return u32(b, i + 1);
    }
    return -1;
  }

  /** i at a value's type byte: start of its bytes when it is a str (this.next = end), else -1. */
  readStr(b: Uint8Array, i: number, end: number): number {
    if (i >= end) return -1;
    const t = b[i]!;
    let s: number;
    let n: number;
    if (t >= 0xa0 && t < 0xc0) {
      s = i + 1;
      n = t & 0x1f;
    } else if (t === 0xd9 && i + 2 <= end) {
      s = i + 2;
      n = b[i + 1]!;
    } else if (t === 0xda && i + 3 <= end) {
      s = i + 3;
      n = u16(b, i + 1);
    } else if (t === 0xdb && i + 5 <= end) {
      s = i + 5;
      n = u32(b, i + 1);
    } else return -1;
    if (s + n > end) return -1;
    this.next = s + n;
    return s;
  }

  /** i at a value's type byte: its value when it is a number (int or float), else NaN; this.next = after it. */
  readNumber(b: Uint8Array, i: number, end: number): number {
    if (i >= end) return NaN;
    const t = b[i]!;
    if (t < 0x80) {
      this.next = i + 1;
      return t;
    }
    if (t >= 0xe0) {
      this.next = i + 1;
      return t - 0x100;
    }
    const size = t === 0xcc || t === 0xd0 ? 1 : t === 0xcd || t === 0xd1 ? 2 : t === 0xce || t === 0xd2 || t === 0xca ? 4 : 8;
    if (t < 0xca || t > 0xd3 || i + 1 + size > end) return NaN;
    this.next = i + 1 + size;
    const p = i + 1;
    switch (t) {
      case 0xca:
      case 0xcb:
        for (let k = 0; k < size; k++) this.floatBytes[k] = b[p + k]!;
        return t === 0xca ? this.floatView.getFloat32(0) : this.floatView.getFloat64(0);
      case 0xcc:
        return b[p]!;
      case 0xcd:
        return u16(b, p);
      case 0xce:
        return u32(b, p);
      case 0xcf:
        return u32(b, p) * 0x100000000 + u32(b, p + 4);
      case 0xd0:
        return (b[p]! << 24) >> 24;
      case 0xd1:
        return (u16(b, p) << 16) >> 16;
      case 0xd2:
        return u32(b, p) | 0;
      default:
        return (u32(b, p) | 0) * 0x100000000 + u32(b, p + 4);
    }
  }
}
