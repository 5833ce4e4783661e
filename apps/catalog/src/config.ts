import { postgresSpec } from '@reel/runtime';

export const configSpec = { ...postgresSpec } as const;
