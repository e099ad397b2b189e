// The API's shapes (appliance/api/openapi.json), as far as the UI reads them.

export type Role = 'viewer' | 'operator' | 'admin';

export interface SessionInfo {
  username: string;
  role: Role;
  csrf_token?: string | null;
}

export interface FieldProblem {
  field: string;
  message: string;
}

export interface AudioLevel {
  peak_dbfs: number;
  rms_dbfs: number;
}

export interface InputLive {
  kind: string;
  signal: boolean;
  format?: string | null;
  timecode?: string | null;
  frames: number;
  audio_levels: AudioLevel[];
  failover?: FailoverLive | null;
}

export interface FailoverInputLive {
  role: 'primary' | 'backup';
  kind: string;
  confidence: number;
  fault?: string | null;
  reopens: number;
  /** A capture input's signal: `1920x1080p60`, `no signal`, `no lock`, `out of range`. */
  signal?: string | null;
  /** How long the input's pictures wait for air on average (its jitter buffer), ms. */
  playout_delay_ms: number;
  last_error?: string | null;
}

export interface SwitchLive {
  seq: number;
  at_ms: number;
  from: string;
  to: string;
  reason: string;
}

export interface FailoverLive {
  active: 'primary' | 'backup' | 'slate';
  slate: string;
  inputs: FailoverInputLive[];
  switches: SwitchLive[];
}

export interface RenditionLive {
  name: string;
  fps: number;
  bitrate_bps: number;
  frames: number;
  bytes: number;
  dropped_frames: number;
  /** Frames shed in the last 10 s: the ladder cannot keep up. */
  dropped_frames_last_10s: number;
}

export interface SrtLive {
  rtt_ms: number;
  send_rate_mbps: number;
  packets_sent: number;
  packets_lost: number;
  packets_retransmitted: number;
  packets_dropped: number;
  negotiated_latency_ms: number;
}

export interface OutputLive {
  name: string;
  state: string;
  transport: string;
  connection_attempts: number;
  bytes_out: number;
  bytes_dropped: number;
  buffer_bytes: number;
  /** How long after its capture the latest TS reached the transport, ms; null before the first. */
  delay_from_capture_ms?: number | null;
  send_rate_bps: number;
  last_error?: string | null;
  srt?: SrtLive | null;
  rist?: RistLive | null;
  /** An SRT group output's member links, in the order configured. */
  links?: SrtGroupLinkLive[];
}

/** A RIST output's figures (ristsink's, for all its paths together). */
export interface RistLive {
  packets_sent: number;
  packets_retransmitted: number;
  /** null while unknown */
  rtt_ms?: number | null;
}

export interface SrtGroupLinkLive {
  address: string;
  bind?: string | null;
  interface?: string | null;
  /** connecting, active, silent (nothing heard from the receiver for over 1 s), standby or down */
  state: string;
  srt: SrtLive;
}

export interface ChannelLive {
  name: string;
  state: string;
  enabled: boolean;
  restarts: number;
  last_error?: string | null;
  input: InputLive;
  renditions: RenditionLive[];
  outputs: OutputLive[];
}

export interface Alarm {
  severity: string;
  source: string;
  message: string;
  channel?: string | null;
}

export interface ApplianceStatus {
  time_ms: number;
  uptime_s: number;
  safe_mode?: string | null;
  channels: ChannelLive[];
  alarms: Alarm[];
}

export type FrameRate = string | number;

export interface Rendition {
  name: string;
  width: number;
  height: number;
  frame_rate: FrameRate;
  bitrate_kbps: number;
  codec?: 'h264' | 'hevc';
  encoder?: string;
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
      width?: number;
      height?: number;
      frame_rate?: FrameRate;
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
  encryption?: string;
  stream_id?: string | null;
  fec?: { columns: number; rows: number; layout?: string; arq?: string } | null;
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
      links: { address: string; port: number; bind?: string; interface?: string; weight?: number }[];
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
  video?: { gop_frames?: number; b_frames?: number; rate_control?: string; latency?: string };
  audio?: Record<string, unknown>;
  failover?: Record<string, unknown> | null;
}

export interface CaptureDevice {
  name: string;
  kind: string;
  path?: string | null;
  /** HDMI/SDI inputs: the detected format, or `no signal` / `no lock` / `out of range`. */
  signal?: string | null;
}

export interface EncoderBackend {
  backend: string;
  codec: string;
  element: string;
  available: boolean;
  reason?: string | null;
}

export interface NetworkInterface {
  name: string;
  up: boolean;
  addresses: string[];
  mac?: string | null;
}

export interface SystemInfo {
  version: string;
  uptime_s: number;
  safe_mode?: string | null;
  encoder_backends: EncoderBackend[];
  capture_devices: CaptureDevice[];
  network_interfaces: NetworkInterface[];
}

export interface UserView {
  username: string;
  role: Role;
  created_ms: number;
}

export interface TokenView {
  id: string;
  name: string;
  role: Role;
  created_ms: number;
  created_by: string;
  expires_ms?: number | null;
}

export interface CreatedToken extends TokenView {
  token: string;
}

export interface AuditEntry {
  time_ms: number;
  actor: string;
  source: string;
  action: string;
  target: string;
  detail: string;
}

export interface EventEntry {
  time_ms: number;
  severity: string;
  kind: string;
  message: string;
  channel?: string | null;
}

export interface TlsInfo {
  enabled: boolean;
  self_signed: boolean;
  fingerprint_sha256?: string | null;
}
