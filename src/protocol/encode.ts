import type { ReqId } from './decode-error.js';
import { AnswerWriter } from './answer-writer.js';
import { httpError, writeHttpAnswer } from './encode-http.js';
import { MsgpackAnswerWriter, msgpackAnswer, msgpackError } from './encode-msgpack.js';
import { tcpJsonError, writeTcpJsonAnswer } from './encode-tcp-json.js';
import { errors, type FlashqError } from '../base/errors.js';
import { encodeGrpc, encodeGrpcError } from './grpc-codec.js';
import { ProtoWriter } from './grpc-wire.js';
import { internalAnswer, internalError } from './internal.js';
import type { Request } from './request.js';
import { Format, type Result } from './result.js';

export { httpStatusOf } from './encode-http.js';
export { decodeInternalAnswer } from './internal.js';

/** scratch of the one-off writer of encodeError (an error map is small; the writer grows if not) */
const ERROR_SCRATCH = 256;

/**
 * The error answer bytes (`reqId` echoed on TCP) for a caller that owns no AnswerEncoder (the
 * cluster link's refusals): the same bytes as AnswerEncoder.error, with a small writer made per
 * MessagePack call. Owners answering many requests use their AnswerEncoder.
 */
export function encodeError(format: Format, err: FlashqError, reqId: ReqId): Uint8Array {
  switch (format) {
    case Format.TcpJson:
      return Buffer.from(tcpJsonError(err, reqId), 'utf8');
    case Format.TcpMsgpack:
      return msgpackError(new MsgpackAnswerWriter(ERROR_SCRATCH), err, reqId);
    case Format.Http:
      return Buffer.from(httpError(err), 'utf8');
    case Format.Internal:
      return Buffer.from(internalError(err), 'utf8');
    case Format.Grpc:
      return encodeGrpcError(err);
    default:
      throw errors.internal(`no encoder for format ${String(format)}`);
  }
}

/**
 * Renders answers for every format. Each owner (a shard, the front's fanout and routers) makes one
 * and keeps it: the scratch writers and their queue-name memos inside are reused from answer to
 * answer and belong to this encoder only.
 */
export class AnswerEncoder {
  private readonly text = new AnswerWriter();
  private readonly msgpack = new MsgpackAnswerWriter();
  private readonly proto = new ProtoWriter();

  /**
   * The answer bytes of a request on its surface: a `\n`-terminated JSON line (TcpJson), a
   * length-prefixed MessagePack map (TcpMsgpack), an envelope body (Http), Internal JSON, or the
   * method's protobuf response (Grpc). Throws a FlashqError when the surface renders this result
   * as an error (HTTP GET /jobs/{id} of an unknown id): answer it with error().
   */
  answer(format: Format, request: Request, result: Result, reqId: ReqId): Uint8Array {
    switch (format) {
      case Format.TcpJson:
        writeTcpJsonAnswer(this.text.begin(), request, result, reqId);
        return this.text.finish();
      case Format.TcpMsgpack:
        return msgpackAnswer(this.msgpack, request, result, reqId);
      case Format.Http:
        writeHttpAnswer(this.text.begin(), request, result);
        return this.text.finish();
      case Format.Internal:
        return Buffer.from(internalAnswer(result), 'utf8');
      case Format.Grpc:
        return encodeGrpc(this.proto, request, result);
      default:
        throw errors.internal(`no encoder for format ${String(format)}`);
    }
  }

  /** The error answer bytes (`reqId` echoed on TCP); the HTTP status is httpStatusOf(err). */
  error(format: Format, err: FlashqError, reqId: ReqId): Uint8Array {
    return format === Format.TcpMsgpack ? msgpackError(this.msgpack, err, reqId) : encodeError(format, err, reqId);
  }
}
