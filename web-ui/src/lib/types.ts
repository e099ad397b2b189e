// The API's shapes. What the UI reads is generated from the API's own OpenAPI document
// (appliance/api/openapi.json, itself checked against the Rust types by a drift test) into
// api-schema.d.ts at every build, so a field the API renames or drops fails svelte-check here
// instead of showing blank on a dashboard. The editor's config model below is written by hand:
// it narrows the config's unions to what the forms edit.

import type { components } from './api-schema';

type Schemas = components['schemas'];

export type Role = Schemas['Role'];
export type SessionInfo = Schemas['SessionInfo'];
export type FieldProblem = Schemas['FieldProblem'];
export type AudioLevel = Schemas['AudioLevelLive'];
export type InputLive = Schemas['InputLive'];
export type FailoverInputLive = Schemas['FailoverInputLive'];
export type SwitchLive = Schemas['SwitchLive'];
export type FailoverLive = Schemas['FailoverLive'];
export type RenditionLive = Schemas['RenditionLive'];
export type SrtLive = Schemas['SrtLive'];
export type OutputLive = Schemas['OutputLive'];
export type RistLive = Schemas['RistLive'];
export type SrtGroupLinkLive = Schemas['SrtGroupLinkLive'];
export type ChannelLive = Schemas['ChannelLive'];
export type Alarm = Schemas['Alarm'];
export type ApplianceStatus = Schemas['ApplianceStatus'];
export type CaptureDevice = Schemas['CaptureDevice'];
export type EncoderBackend = Schemas['EncoderBackend'];
export type NetworkInterface = Schemas['NetworkInterface'];
export type SystemInfo = Schemas['SystemInfo'];
export type UserView = Schemas['UserView'];
export type TokenView = Schemas['TokenView'];
export type CreatedToken = Schemas['CreatedToken'];
export type AuditEntry = Schemas['AuditEntry'];
export type EventEntry = Schemas['Event'];
export type TlsInfo = Schemas['TlsInfo'];

export type FrameRate = string | number;

export interface Rendition {
  name: string;
  width: number;
  height: number;
  frame_rate: FrameRate;
  bitrate_kbps: number;
  codec?: 'h264' | 'hevc';
  encoder?: Schemas['EncoderChoice'];
  profile?: 'baseline' | 'main' | 'high' | null;
}

export type Input =
  | { type: 'test_pattern'; width: number; height: number; frame_rate: FrameRate; tone_hz?: number }
  | { type: 'file'; path: string; loop_playback?: boolean; live_pace?: boolean }
  | {
      type: 'srt';
      mode: 'caller' | 'listener';
      address?: string;
      port: number;
      latency_ms?: number;
      passphrase?: string | null;
      stream_id?: string | null;
    }
  | { type: 'udp'; address?: string; port: number; interface?: string | null }
  | {
      type: 'v4l2';
      device: string;
      /** Left out: follow the signal's own format (DV timings). */
      width?: number | null;
      height?: number | null;
      frame_rate?: FrameRate | null;
      pixel_format?: string | null;
    }
  | {
      type: 'decklink';
      device_number?: number;
      mode: string;
      connection?: 'auto' | 'sdi' | 'hdmi';
      audio_channels?: number;
    };

export type InputType = Input['type'];

/** What an SRT output and an SRT group output share. */
interface SrtOptions {
  name: string;
  latency_ms?: number;
  passphrase?: string | null;
  encryption?: Schemas['Encryption'];
  stream_id?: string | null;
  fec?: Schemas['SrtFec'] | null;
  renditions?: string[] | null;
  copy_of?: string | null;
}

export type Output =
  | (SrtOptions & {
      type: 'srt';
      mode: 'caller' | 'listener' | 'rendezvous';
      address?: string;
      port: number;
    })
  | (SrtOptions & {
      type: 'srt_group';
      mode: 'broadcast' | 'backup';
      links: Schemas['SrtGroupLink'][];
    })
  | {
      type: 'udp';
      name: string;
      address: string;
      port: number;
      ttl?: number;
      interface?: string | null;
      renditions?: string[] | null;
    }
  | {
      type: 'rist';
      name: string;
      address: string;
      port: number;
      buffer_ms?: number;
      /** Further paths carrying the same RTP (broadcast bonding). */
      bonding?: { address: string; port: number }[];
      renditions?: string[] | null;
      copy_of?: string | null;
    }
  | {
      type: 'rtp';
      name: string;
      address: string;
      port: number;
      fec?: { columns: number; rows: number } | null;
      renditions?: string[] | null;
      copy_of?: string | null;
    }
  | { type: 'file'; name: string; path: string; renditions?: string[] | null };

export interface Channel {
  name: string;
  input: Input;
  ladder: Rendition[];
  outputs: Output[];
  timecode?: { source?: 'system_clock' | 'internal' };
  video?: Schemas['VideoEncoding'];
  audio?: Schemas['Audio'];
  failover?: Schemas['Failover'] | null;
}

/** Compiles only when `Model` is something the API accepts as `Api`. */
type Accepted<Model extends Api, Api> = Model;
/** The editor's channel is a valid API body (checked at build time, against the generated schema). */
export type EditorChannelIsAccepted = Accepted<Channel, Schemas['Channel']>;
/** And it can hold every channel the API returns (the editor loads them to edit). */
export type ApiChannelIsEditable = Accepted<Schemas['Channel'], Channel>;
