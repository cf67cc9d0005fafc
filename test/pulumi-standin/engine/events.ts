import * as grpc from '@grpc/grpc-js';
import { appendFileSync } from 'node:fs';
import * as eventsRpc from '@pulumi/pulumi/proto/events_grpc_pb.js';
import type * as eventsTypes from '@pulumi/pulumi/proto/events_pb.js';
import { eventsPb } from './proto.js';

/**
 * Engine events for `--event-log`: over gRPC `Events.StreamEvents` when given `tcp://host:port` (what
 * Automation above 3.205.0 passes), else appended as JSON lines to the file. Events follow apitype's
 * EngineEvent JSON (preludeEvent, resourcePreEvent, resOutputsEvent, diagnosticEvent, summaryEvent,
 * cancelEvent last). A sink that fails never fails the update: events are a view, not the record.
 */
export class EventSink {
  private sequence = 0;
  private stream: grpc.ClientWritableStream<eventsTypes.EventRequest> | undefined;
  private done: Promise<void> = Promise.resolve();
  private client: eventsRpc.EventsClient | undefined;

  constructor(
    private readonly target: string | undefined,
    private readonly onProblem: (msg: string) => void,
  ) {
    if (!target?.startsWith('tcp://')) return;
    this.client = new eventsRpc.EventsClient(target.slice('tcp://'.length), grpc.credentials.createInsecure());
    this.done = new Promise((resolve) => {
      this.stream = this.client?.streamEvents((err) => {
        if (err) this.onProblem(`event stream ended with ${err.message}`);
        resolve();
      });
    });
    this.stream?.on('error', (err: Error) => this.onProblem(`event stream failed: ${err.message}`));
  }

  emit(event: Record<string, unknown>): void {
    if (!this.target) return;
    const line = JSON.stringify({ sequence: this.sequence++, timestamp: Math.floor(Date.now() / 1000), ...event });
    if (this.stream) {
      this.stream.write(new eventsPb.EventRequest().setEvent(line));
      return;
    }
    try {
      appendFileSync(this.target, `${line}\n`);
    } catch (err) {
      this.onProblem(`could not write the event log ${this.target}: ${(err as Error).message}`);
    }
  }

  /** Sends `cancelEvent` (the engine's last event) and waits until the receiver has everything. */
  async close(): Promise<void> {
    this.emit({ cancelEvent: {} });
    if (!this.stream) return;
    this.stream.end();
    const timeout = new Promise<void>((resolve) => setTimeout(resolve, 5000).unref());
    await Promise.race([this.done, timeout]);
    this.client?.close();
  }
}
