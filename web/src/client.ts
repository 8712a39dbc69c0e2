import type { FromWorker, ToWorker } from './protocol.js';

/** Requests: the messages that carry an id, sent without it. */
type WithoutId<T> = T extends { id: number } ? Omit<T, 'id'> : never;
export type Request = WithoutId<ToWorker>;

/**
 * The page's end of the training worker: `send` for plain messages, `request` for those the
 * worker answers (a promise of the reply's value, rejected with the worker's error message),
 * and `on` for everything else it sends.
 */
export class WorkerClient {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();

  constructor(
    private readonly worker: Worker,
    on: (message: FromWorker) => void,
    onCrash: (message: string) => void,
  ) {
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      const message = event.data;
      if (message.type !== 'reply') return on(message);
      const waiting = this.pending.get(message.id);
      this.pending.delete(message.id);
      if (message.ok) waiting?.resolve(message.value);
      else waiting?.reject(new Error(message.error));
    };
    worker.onerror = (event) => onCrash(`the training worker failed: ${event.message || 'unknown error'}`);
  }

  send(message: Exclude<ToWorker, { id: number }>, transfer: Transferable[] = []): void {
    this.worker.postMessage(message, transfer);
  }

  request<T>(message: Request, transfer: Transferable[] = []): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.worker.postMessage({ ...message, id }, transfer);
    });
  }
}
