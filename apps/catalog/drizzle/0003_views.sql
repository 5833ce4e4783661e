CREATE TABLE "video_views" (
	"video_id" uuid NOT NULL,
	"event_id" text NOT NULL,
	"viewed_at" timestamp with time zone NOT NULL,
	CONSTRAINT "video_views_video_id_event_id_pk" PRIMARY KEY("video_id","event_id")
);
