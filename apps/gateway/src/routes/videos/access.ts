import type { VideoRecord } from '@reel/events';
import { HttpError } from '../../errors.ts';
import type { Catalog } from '../../services.ts';

/**
 * The video as `viewer` may change it: someone else's private video does not exist for them
 * (404, from the catalog); someone else's public one is visible but not theirs (403).
 */
export async function loadOwned(catalog: Catalog, id: string, viewer: string): Promise<VideoRecord> {
  const record = await catalog.get(id, viewer);
  if (record.ownerId !== viewer) throw new HttpError(403, 'forbidden', 'only the owner can change this video');
  return record;
}
