// Ladder presets: common contribution ladders, each rung a sensible bitrate for H.264 at its
// size and rate (roughly Apple's HLS authoring guidance, trimmed for contribution).

import type { Rendition } from './types';

export interface LadderPreset {
  id: string;
  label: string;
  ladder: Rendition[];
}

const rung = (
  name: string,
  width: number,
  height: number,
  frame_rate: number,
  bitrate_kbps: number,
  profile: 'main' | 'high' = 'high',
): Rendition => ({ name, width, height, frame_rate, bitrate_kbps, codec: 'h264', profile });

export const LADDER_PRESETS: LadderPreset[] = [
  {
    id: '1080p30-3',
    label: '1080p30, 3 rungs',
    ladder: [rung('1080p', 1920, 1080, 30, 6000), rung('720p', 1280, 720, 30, 3000), rung('360p', 640, 360, 30, 800, 'main')],
  },
  {
    id: '2160p-4',
    label: '2160p30, 4 rungs',
    ladder: [
      rung('2160p', 3840, 2160, 30, 16000),
      rung('1080p', 1920, 1080, 30, 6000),
      rung('720p', 1280, 720, 30, 3000),
      rung('360p', 640, 360, 30, 800, 'main'),
    ],
  },
  {
    id: '720p-mobile',
    label: '720p mobile, 3 rungs',
    ladder: [rung('720p', 1280, 720, 30, 2500), rung('480p', 854, 480, 30, 1200, 'main'), rung('240p', 426, 240, 30, 400, 'main')],
  },
  {
    id: '360p-2',
    label: '360p test, 2 rungs',
    ladder: [rung('360p', 640, 360, 30, 1200), rung('180p', 320, 180, 30, 400, 'main')],
  },
];
