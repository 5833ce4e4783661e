-- The catalog becomes a fold: each row keeps the fold's state (jsonb); the record is derived from it.
-- Existing rows are carried over as facts stamped by a pseudo-event 'migration' at their own times,
-- so any newer event still wins over them.
DROP TABLE "applied_events" CASCADE;--> statement-breakpoint
ALTER TABLE "videos" ALTER COLUMN "owner_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "videos" ALTER COLUMN "title" SET DEFAULT '';--> statement-breakpoint
ALTER TABLE "videos" ALTER COLUMN "visibility" SET DEFAULT 'private';--> statement-breakpoint
ALTER TABLE "videos" ADD COLUMN "state" jsonb;--> statement-breakpoint
UPDATE "videos" SET "state" = jsonb_strip_nulls(jsonb_build_object(
	'v', 1,
	'videoId', "id"::text,
	'origin', jsonb_build_object('at', to_char("created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', jsonb_build_object('ownerId', "owner_id")),
	'title', jsonb_build_object('at', to_char("created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', "title"),
	'description', jsonb_build_object('at', to_char("created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', "description"),
	'visibility', jsonb_build_object('at', to_char("created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', "visibility"),
	'uploadExpiresAt', CASE WHEN "upload_expires_at" IS NOT NULL THEN jsonb_build_object('at', to_char("created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', to_char("upload_expires_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')) END,
	'progress', CASE WHEN "status" = 'processing' THEN jsonb_build_object('at', to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', jsonb_build_object('stage', coalesce("stage", 'ingest'), 'percent', coalesce("percent", 0))) END,
	'probe', CASE WHEN "source" IS NOT NULL THEN jsonb_build_object('at', to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', "source") END,
	'packaged', CASE WHEN "master" IS NOT NULL THEN jsonb_build_object('at', to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', jsonb_build_object('master', "master", 'renditions', coalesce("renditions", '[]'::jsonb), 'durationSec', coalesce("duration_sec", 0))) END,
	'images', CASE WHEN "images" IS NOT NULL THEN jsonb_build_object('at', to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', "images") END,
	'failure', CASE WHEN "error_code" IS NOT NULL AND "error_stage" IS DISTINCT FROM 'thumbnails' THEN jsonb_build_object('at', to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', jsonb_build_object('stage', coalesce("error_stage", ''), 'code', "error_code", 'message', coalesce("error_message", ''))) END,
	'thumbnailsFailure', CASE WHEN "error_code" IS NOT NULL AND "error_stage" = 'thumbnails' THEN jsonb_build_object('at', to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'id', 'migration', 'value', jsonb_build_object('stage', 'thumbnails', 'code', "error_code", 'message', coalesce("error_message", ''))) END,
	'updatedAt', to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
));--> statement-breakpoint
ALTER TABLE "videos" ALTER COLUMN "state" SET NOT NULL;--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "error_code";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "error_stage";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "error_message";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "stage";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "percent";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "duration_sec";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "source";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "renditions";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "master";--> statement-breakpoint
ALTER TABLE "videos" DROP COLUMN "images";
