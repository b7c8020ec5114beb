import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Token check for every surface. Tokens are compared as SHA-256 digests with timingSafeEqual, so
 * neither the contents nor the length of a configured token leak through timing.
 */
export class Auth {
  private readonly digests: Buffer[];

  constructor(tokens: readonly string[]) {
    this.digests = tokens.map((t) => createHash('sha256').update(t).digest());
  }

  get enabled(): boolean {
    return this.digests.length > 0;
  }

  get tokenCount(): number {
    return this.digests.length;
  }

  check(token: unknown): boolean {
    if (!this.enabled) return true;
    if (typeof token !== 'string' || token.length === 0 || token.length > 4096) return false;
    const d = createHash('sha256').update(token).digest();
    let ok = false;
    // visit every token so the time does not depend on which one matched
    for (const want of this.digests) ok = timingSafeEqual(d, want) || ok;
    return ok;
  }

  /** `Authorization: Bearer T` header value → whether it carries a valid token. */
  checkBearer(header: string | undefined | null): boolean {
    if (!this.enabled) return true;
    if (!header) return false;
    const m = /^Bearer\s+(.+)$/i.exec(header.trim());
    return m !== null && this.check(m[1]);
  }
}
