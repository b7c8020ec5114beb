/**
 * The MAX_CONNECTIONS count, shared by every listener: a TCP or Unix socket connection, a gRPC
 * connection, a WebSocket or SSE subscriber, and an HTTP request while it is being served each
 * count one. (Idle HTTP keep-alive sockets are not counted: uWS closes them after 10 s.)
 */
export class ConnectionLimit {
  private open = 0;

  constructor(readonly max: number) {}

  get count(): number {
    return this.open;
  }

  /** Count one more connection unless the limit is reached. */
  tryAcquire(): boolean {
    if (this.open >= this.max) return false;
    this.open++;
    return true;
  }

  /** Count one whatever the limit (check `exceeded` after): for callers that must answer first. */
  acquire(): void {
    this.open++;
  }

  release(): void {
    this.open--;
  }

  /** More are counted than allowed (the last acquire() went past the limit). */
  get exceeded(): boolean {
    return this.open > this.max;
  }
}
