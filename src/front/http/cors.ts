import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import type { Config } from '../../config.js';

const ALLOW_METHODS = 'GET, POST, DELETE, OPTIONS';
// browsers cannot put a token on EventSource or WebSocket: those take `?token=` instead
const ALLOW_HEADERS = 'Authorization, Content-Type';
/** how long a browser may reuse a preflight answer, seconds */
const MAX_AGE_S = '86400';

/**
 * Cross-origin access for browsers (CORS_ORIGINS): `*` lets any page call the API, as the reference
 * server does; a list echoes the request's Origin when it is listed (and says the answer varies
 * with it); `none` sends no CORS header at all.
 */
export class Cors {
  private readonly listed: ReadonlySet<string> | null;

  constructor(private readonly origins: Config['corsOrigins']) {
    this.listed = Array.isArray(origins) ? new Set(origins) : null;
  }

  get enabled(): boolean {
    return this.origins !== null;
  }

  /**
   * The Access-Control-Allow-Origin value for this request, or null for none. Read while the
   * request is valid (uWS requests live only through their handler's synchronous part).
   */
  originFor(req: HttpRequest): string | null {
    if (this.origins === '*') return '*';
    if (this.listed === null) return null;
    const origin = req.getHeader('origin');
    return origin !== '' && this.listed.has(origin.toLowerCase()) ? origin : null;
  }

  /** Write the CORS headers of an answer (inside its cork, after the status line). */
  write(res: HttpResponse, origin: string | null): void {
    if (origin !== null) res.writeHeader('Access-Control-Allow-Origin', origin);
    if (this.listed !== null) res.writeHeader('Vary', 'Origin');
  }

  /** Answer every OPTIONS preflight 204, before auth: browsers send preflights without credentials. */
  route(app: TemplatedApp): void {
    if (!this.enabled) return;
    app.options('/*', (res, req) => {
      const origin = this.originFor(req);
      res.cork(() => {
        res.writeStatus('204 No Content');
        this.write(res, origin);
        if (origin !== null) {
          res
            .writeHeader('Access-Control-Allow-Methods', ALLOW_METHODS)
            .writeHeader('Access-Control-Allow-Headers', ALLOW_HEADERS)
            .writeHeader('Access-Control-Max-Age', MAX_AGE_S);
        }
        res.endWithoutBody();
      });
    });
  }
}
