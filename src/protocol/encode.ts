import type { ReqId } from './decode-error.js';
import { AnswerWriter } from './answer-writer.js';
import { httpError, writeHttpAnswer } from './encode-http.js';
import { msgpackAnswer, msgpackError } from './encode-msgpack.js';
import { tcpJsonError, writeTcpJsonAnswer } from './encode-tcp-json.js';
import { errors, type FlashqError } from '../base/errors.js';
import { grpcEncoder } from './grpc-codec.js';
import { internalAnswer, internalError } from './internal.js';
import type { Request } from './request.js';
import { Format, type Result } from './result.js';

export { httpStatusOf } from './encode-http.js';
export { decodeInternalAnswer } from './internal.js';

export interface FormatEncoder {
  answer(request: Request, result: Result, reqId: ReqId): Uint8Array;
  error(err: FlashqError, reqId: ReqId): Uint8Array;
}

/** One encoder per Format; gRPC registers its own. */
const ENCODERS: Array<FormatEncoder | undefined> = [];

export function registerEncoder(format: Format, encoder: FormatEncoder): void {
  ENCODERS[format] = encoder;
}

function encoderOf(format: Format): FormatEncoder {
  const e = ENCODERS[format];
  if (e === undefined) throw errors.internal(`no encoder for format ${format}`);
  return e;
}

/**
 * The answer bytes of a request on its surface: a `\n`-terminated JSON line (TcpJson), a
 * length-prefixed MessagePack map (TcpMsgpack), an envelope body (Http), or Internal JSON.
 * Throws a FlashqError when the surface renders this result as an error (HTTP GET /jobs/{id} of
 * an unknown id): answer it with encodeError.
 */
export function encodeAnswer(format: Format, request: Request, result: Result, reqId: ReqId): Uint8Array {
  return encoderOf(format).answer(request, result, reqId);
}

/** The error answer bytes (`reqId` echoed on TCP); the HTTP status is httpStatusOf(err). */
export function encodeError(format: Format, err: FlashqError, reqId: ReqId): Uint8Array {
  return encoderOf(format).error(err, reqId);
}

// Encoding is synchronous: one writer serves every answer.
const writer = new AnswerWriter();

registerEncoder(Format.TcpJson, {
  answer: (request, result, reqId) => {
    writeTcpJsonAnswer(writer.begin(), request, result, reqId);
    return writer.finish();
  },
  error: (err, reqId) => Buffer.from(tcpJsonError(err, reqId), 'utf8'),
});

registerEncoder(Format.TcpMsgpack, { answer: msgpackAnswer, error: msgpackError });

registerEncoder(Format.Http, {
  answer: (request, result) => {
    writeHttpAnswer(writer.begin(), request, result);
    return writer.finish();
  },
  error: (err) => Buffer.from(httpError(err), 'utf8'),
});

registerEncoder(Format.Internal, {
  answer: (_request, result) => Buffer.from(internalAnswer(result), 'utf8'),
  error: (err) => Buffer.from(internalError(err), 'utf8'),
});

registerEncoder(Format.Grpc, grpcEncoder);
