import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import { loadDashboard, type Asset } from '../../dashboard/assets.js';
import { errorEnvelope, JSON_TYPE } from './envelope.js';
import type { HttpContext } from './context.js';

/**
 * The page may only load its own files and talk to this server; its inline style attributes come
 * from the chart library (set through the CSSOM, which style-src does not govern).
 */
const PAGE_POLICY =
  "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

/**
 * The web dashboard at `/` and `/dashboard`, and its assets under `/dashboard/assets/<build>/`.
 * Static and open without a token: the page holds no data, it asks for the token and then uses
 * the API like any client. Answered synchronously from memory (nothing to abort).
 */
export function dashboardRoutes(ctx: HttpContext): void {
  const assets = loadDashboard();
  const page = (res: HttpResponse, req: HttpRequest) => {
    if (assets === null) return notBuilt(res);
    serve(res, req, assets.page, true);
  };
  ctx.app.get('/', page);
  ctx.app.get('/dashboard', page);
  ctx.app.get('/dashboard/', page);
  ctx.app.get('/dashboard/assets/*', (res, req) => {
    const a = assets?.files.get(req.getUrl());
    if (a === undefined) {
      res.cork(() => {
        res.writeStatus('404 Not Found').writeHeader('Content-Type', JSON_TYPE).end(errorEnvelope(`Dashboard asset not found: ${req.getUrl()}`));
      });
      return;
    }
    serve(res, req, a, false);
  });
}

function serve(res: HttpResponse, req: HttpRequest, a: Asset, isPage: boolean): void {
  const fresh = req.getHeader('if-none-match') === a.etag;
  res.cork(() => {
    res.writeStatus(fresh ? '304 Not Modified' : '200 OK');
    res.writeHeader('Content-Type', a.contentType);
    res.writeHeader('Cache-Control', a.cacheControl);
    res.writeHeader('ETag', a.etag);
    res.writeHeader('X-Content-Type-Options', 'nosniff');
    if (isPage) {
      res.writeHeader('Content-Security-Policy', PAGE_POLICY);
      res.writeHeader('Referrer-Policy', 'no-referrer');
    }
    if (fresh) res.endWithoutBody();
    else res.end(a.body);
  });
}

function notBuilt(res: HttpResponse): void {
  res.cork(() => {
    res
      .writeStatus('404 Not Found')
      .writeHeader('Content-Type', JSON_TYPE)
      .end(errorEnvelope('Dashboard not built: run `npm run build` (it writes dist/dashboard)'));
  });
}
