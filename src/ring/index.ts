export { SpscRing, recordBytes } from './spsc-ring.js';
export { RingChannel, RingOverflowError, type RingChannelOptions } from './channel.js';
export { RingLink, createLink, type LinkEnd, type RingLinkOptions } from './link.js';
export { FrameBuilder, FrameReader, RECORD_HEADER_BYTES } from './records.js';
export { Kind } from './kinds.js';
