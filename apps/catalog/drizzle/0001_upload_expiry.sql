ALTER TABLE "videos" ADD COLUMN "upload_expires_at" timestamp with time zone;--> statement-breakpoint
CREATE INDEX "videos_upload_expires_idx" ON "videos" USING btree ("upload_expires_at");