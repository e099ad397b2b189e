// Live status from the appliance's SSE stream, and the last five minutes of each SRT link's
// figures for the charts. History lives in fixed-size arrays outside Svelte's reactivity (a
// version counter tells the charts to redraw), so hours of updates use constant memory.

import { api, SESSION_EXPIRED } from './api';
import type { ApplianceStatus, EventEntry } from './types';

/** Points kept per link: five minutes at one status a second. */
export const HISTORY_POINTS = 300;

export interface LinkHistory {
  /** Unix seconds */
  t: number[];
  rttMs: number[];
  /** Packets lost per second over the last interval */
  lostPerS: number[];
  /** Packets retransmitted per second over the last interval */
  retransPerS: number[];
  last?: { t: number; lost: number; retrans: number };
}

function push(list: number[], value: number): void {
  list.push(value);
  if (list.length > HISTORY_POINTS) list.shift();
}

class Live {
  status = $state.raw<ApplianceStatus | null>(null);
  connected = $state(false);
  /** Bumped after every status: charts and thumbnails follow it. */
  version = $state(0);
  recentEvents = $state.raw<EventEntry[]>([]);
  private links = new Map<string, LinkHistory>();
  private source: EventSource | null = null;

  history(channel: string, output: string): LinkHistory {
    const key = `${channel}/${output}`;
    let h = this.links.get(key);
    if (!h) {
      h = { t: [], rttMs: [], lostPerS: [], retransPerS: [] };
      this.links.set(key, h);
    }
    return h;
  }

  start(): void {
    if (this.source) return;
    // `?live_interval_ms=` (100–10000) asks for faster updates; the browser tests use it to
    // play ten minutes of 1 Hz updates in one.
    const wanted = new URLSearchParams(location.search).get('live_interval_ms');
    const query = wanted ? `?interval_ms=${encodeURIComponent(wanted)}` : '';
    const source = new EventSource(`/api/v1/status/stream${query}`);
    this.source = source;
    source.addEventListener('open', () => (this.connected = true));
    source.addEventListener('status', (e) => this.onStatus(JSON.parse((e as MessageEvent<string>).data)));
    source.addEventListener('event', (e) => {
      const event = JSON.parse((e as MessageEvent<string>).data) as EventEntry;
      this.recentEvents = [event, ...this.recentEvents].slice(0, 20);
    });
    source.addEventListener('error', () => {
      this.connected = false;
      if (source.readyState === EventSource.CLOSED) {
        // The browser gave up (e.g. 401): find out whether the session is still there.
        this.stop();
        api('GET', '/api/v1/session').then(
          () => setTimeout(() => this.start(), 1000),
          () => window.dispatchEvent(new CustomEvent(SESSION_EXPIRED)),
        );
      }
    });
  }

  stop(): void {
    this.source?.close();
    this.source = null;
    this.connected = false;
  }

  private onStatus(status: ApplianceStatus): void {
    const t = status.time_ms / 1000;
    for (const channel of status.channels) {
      for (const output of channel.outputs) {
        if (!output.srt) continue;
        const h = this.history(channel.name, output.name);
        const srt = output.srt;
        const last = h.last;
        const dt = last ? t - last.t : 0;
        const rate = (now: number, before: number) => (dt > 0 ? Math.max(0, now - before) / dt : 0);
        push(h.t, t);
        push(h.rttMs, srt.rtt_ms);
        push(h.lostPerS, last ? rate(srt.packets_lost, last.lost) : 0);
        push(h.retransPerS, last ? rate(srt.packets_retransmitted, last.retrans) : 0);
        h.last = { t, lost: srt.packets_lost, retrans: srt.packets_retransmitted };
      }
    }
    this.status = status;
    this.version += 1;
  }
}

export const live = new Live();
