/**
 * The front's view of the shards' stores, for /health `postgres_connected`. Each shard reports its
 * store going up or down with a `store` control message; reading the flag costs nothing and needs
 * no database round trip.
 */
export class StoreStatus {
  private readonly up: boolean[];

  constructor(shards: number) {
    this.up = new Array<boolean>(Math.max(1, shards)).fill(false);
  }

  /** True when every shard's store is available. */
  get connected(): boolean {
    return this.up.every((u) => u);
  }

  set(shard: number, available: boolean): void {
    if (shard >= 0 && shard < this.up.length) this.up[shard] = available;
  }
}
