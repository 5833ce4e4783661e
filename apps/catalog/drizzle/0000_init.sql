CREATE TABLE "applied_events" (
	"event_id" text PRIMARY KEY NOT NULL,
	"subject" text NOT NULL,
	"applied_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "videos" (
	"id" uuid PRIMARY KEY NOT NULL,
	"owner_id" text NOT NULL,
	"title" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"visibility" text NOT NULL,
	"status" text NOT NULL,
	"error_code" text,
	"error_stage" text,
	"error_message" text,
	"stage" text,
	"percent" real,
	"duration_sec" real,
	"source" jsonb,
	"renditions" jsonb,
	"master" text,
	"images" jsonb,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "videos_owner_created_idx" ON "videos" USING btree ("owner_id","created_at","id");