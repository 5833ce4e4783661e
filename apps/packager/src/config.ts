import { s3Spec } from '@reel/runtime';

export const configSpec = { ...s3Spec } as const;
