import { s3Spec } from '@reel/storage/config';

export const configSpec = { ...s3Spec } as const;
