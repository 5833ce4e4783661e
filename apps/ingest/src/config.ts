import { ffmpegSpec, limitsSpec, s3Spec } from '@reel/runtime';

export const configSpec = { ...s3Spec, ...ffmpegSpec, ...limitsSpec } as const;
