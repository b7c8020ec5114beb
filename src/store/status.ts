/**
 * The front's view of the shards' stores, for /health `postgres_connected`. Each shard reports
 * its store going up or down with a CONTROL message (`{"op":"store","available":…}`, see
 * storeStatusMessage); reading the flag costs nothing and needs no database round trip.
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

  /** Feed a shard's CONTROL message; returns whether it was a store status message. */
  onControl(shard: number, json: string): boolean {
    if (!json.startsWith('{"op":"store"')) return false;
    const msg = JSON.parse(json) as { available?: boolean };
    if (shard >= 0 && shard < this.up.length) this.up[shard] = msg.available === true;
    return true;
  }
}
