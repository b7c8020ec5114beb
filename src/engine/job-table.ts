/**
 * Id lookup for one partition: sequence number → job. Sequences are dense and increasing, so
 * jobs live in pages of PAGE slots indexed by `seq` (8 bytes a job, Smi keys, no hashing).
 * A page that has thinned out (long-lived stragglers among finished neighbours) hands its
 * survivors to a plain Map and is dropped, so memory stays proportional to the jobs held.
 */
const PAGE_BITS = 10;
const PAGE = 1 << PAGE_BITS;
/** a page with fewer live jobs than this (and no more arrivals expected) moves them to `sparse` */
const THIN = PAGE >> 3;

class Page<T> {
  readonly slots: (T | null)[] = new Array<T | null>(PAGE).fill(null);
  live = 0;
  /** listed in `thinning` */
  listed = false;
}

/** thin candidates are looked at in groups, by when most pages that were draining are empty */
const SWEEP_AT = 64;

export class JobTable<T> {
  private readonly pages = new Map<number, Page<T>>();
  private readonly sparse = new Map<number, T>();
  /** old pages that fell below THIN live jobs: thinned at the next sweep if still sparse */
  private thinning: number[] = [];
  /** highest page that received a job: pages at or past it are still filling */
  private newestPage = 0;
  /** one-entry cache: consecutive ids mostly share a page */
  private cachedPn = -1;
  private cached: Page<T> | undefined = undefined;
  size = 0;

  private page(pn: number): Page<T> | undefined {
    if (pn === this.cachedPn) return this.cached;
    const page = this.pages.get(pn);
    this.cachedPn = pn;
    this.cached = page;
    return page;
  }

  private dropPage(pn: number): void {
    this.pages.delete(pn);
    if (pn === this.cachedPn) this.cachedPn = -1;
  }

  get(seq: number): T | undefined {
    const page = this.page(Math.floor(seq / PAGE));
    if (page !== undefined) return page.slots[seq % PAGE] ?? undefined;
    return this.sparse.get(seq);
  }

  set(seq: number, item: T): void {
    const pn = Math.floor(seq / PAGE);
    let page = this.page(pn);
    if (page === undefined) {
      if (this.sparse.has(seq)) {
        this.sparse.set(seq, item);
        return;
      }
      page = new Page<T>();
      this.pages.set(pn, page);
      this.cachedPn = pn;
      this.cached = page;
      if (pn > this.newestPage) this.newestPage = pn;
    }
    const i = seq % PAGE;
    if (page.slots[i] === null) {
      page.live++;
      this.size++;
    }
    page.slots[i] = item;
  }

  delete(seq: number): void {
    const pn = Math.floor(seq / PAGE);
    const page = this.page(pn);
    if (page === undefined) {
      if (this.sparse.delete(seq)) this.size--;
      return;
    }
    const i = seq % PAGE;
    if (page.slots[i] === null) return;
    page.slots[i] = null;
    page.live--;
    this.size--;
    if (pn >= this.newestPage) return;
    if (page.live === 0) this.dropPage(pn);
    else if (page.live < THIN && !page.listed) {
      page.listed = true;
      this.thinning.push(pn);
      if (this.thinning.length >= SWEEP_AT) this.sweep();
    }
  }

  /** Thin the listed pages that are still sparse (a draining page has usually emptied by now). */
  private sweep(): void {
    const list = this.thinning;
    this.thinning = [];
    for (const pn of list) {
      const page = this.pages.get(pn);
      if (page === undefined) continue;
      page.listed = false;
      if (page.live > 0 && page.live < THIN) this.thin(pn, page);
    }
  }

  /** Thin every old page at once (after recovery, which fills pages in any order). */
  settle(): void {
    for (const [pn, page] of [...this.pages]) if (pn < this.newestPage && page.live < THIN) this.thin(pn, page);
  }

  private thin(pn: number, page: Page<T>): void {
    this.dropPage(pn);
    const base = pn * PAGE;
    for (let k = 0; k < PAGE && page.live > 0; k++) {
      const item = page.slots[k]!;
      if (item !== null) {
        this.sparse.set(base + k, item);
        page.live--;
      }
    }
  }

  *values(): IterableIterator<T> {
    for (const page of this.pages.values()) {
      if (page.live === 0) continue;
      for (const item of page.slots) if (item !== null) yield item;
    }
    yield* this.sparse.values();
  }
}
