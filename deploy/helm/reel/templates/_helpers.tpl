{{/*
Names. The five services share one image and one set of helpers; templates that take one
service get `dict "root" $ "app" "<name>"`.
*/}}
{{- define "reel.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "reel.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "reel.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The services, in start order; templates range over `include "reel.apps" . | fromJsonArray`. */}}
{{- define "reel.apps" -}}
{{- list "catalog" "webhooks" "ingest" "transcoder" "packager" "gateway" | toJson }}
{{- end }}

{{/* Services that read or write objects (s3Spec in packages/runtime/src/config.ts). */}}
{{- define "reel.s3Apps" -}}
{{- list "gateway" "ingest" "transcoder" "packager" | toJson }}
{{- end }}

{{- define "reel.labels" -}}
helm.sh/chart: {{ include "reel.chart" . }}
app.kubernetes.io/name: {{ include "reel.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: reel
{{- end }}

{{/* input: dict "root" $ "app" name */}}
{{- define "reel.selectorLabels" -}}
app.kubernetes.io/name: {{ include "reel.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .app }}
{{- end }}

{{/* input: dict "root" $ "app" name */}}
{{- define "reel.componentLabels" -}}
{{ include "reel.labels" .root }}
app.kubernetes.io/component: {{ .app }}
{{- end }}

{{/* input: dict "root" $ "app" name */}}
{{- define "reel.componentName" -}}
{{- printf "%s-%s" (include "reel.fullname" .root) .app | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "reel.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (.Values.image.tag | default .Chart.AppVersion) }}
{{- end }}
{{- end }}

{{- define "reel.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "reel.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The Secret the services read credentials from (chart-made, or existingSecret). */}}
{{- define "reel.secretName" -}}
{{- .Values.existingSecret | default (include "reel.fullname" .) }}
{{- end }}

{{/* True (non-empty) when the deployment's replicas are managed by an HPA or KEDA. */}}
{{- define "reel.autoscaled" -}}
{{- $v := index .root.Values .app }}
{{- if or $v.autoscaling.enabled (and (eq .app "transcoder") .root.Values.keda.enabled) }}true{{ end }}
{{- end }}

{{/*
NATS. The bundled chart's names follow its own fullname rule (release "reel" → "reel-nats").
*/}}
{{- define "reel.natsFullname" -}}
{{- if .Values.nats.fullnameOverride }}
{{- .Values.nats.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default "nats" .Values.nats.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "reel.natsUrl" -}}
{{- if .Values.nats.enabled }}
{{- printf "nats://%s.%s.svc.%s:4222" (include "reel.natsFullname" .) .Release.Namespace .Values.clusterDomain }}
{{- else }}
{{- required "externalNats.url is required when nats.enabled is false" .Values.externalNats.url }}
{{- end }}
{{- end }}

{{/*
KEDA's nats-jetstream scaler reads the monitoring endpoint; on a cluster it then asks the
stream leader at <server-name>.<endpoint>, which the NATS chart's headless service resolves.
*/}}
{{- define "reel.natsMonitoringEndpoint" -}}
{{- if .Values.keda.natsMonitoringEndpoint }}
{{- .Values.keda.natsMonitoringEndpoint }}
{{- else if .Values.nats.enabled }}
{{- printf "%s-headless.%s.svc.%s:8222" (include "reel.natsFullname" .) .Release.Namespace .Values.clusterDomain }}
{{- else }}
{{- fail "keda.natsMonitoringEndpoint is required when keda.enabled is true and nats.enabled is false" }}
{{- end }}
{{- end }}

{{- define "reel.publicUrl" -}}
{{- if .Values.gateway.publicUrl }}
{{- .Values.gateway.publicUrl }}
{{- else if and .Values.gateway.ingress.enabled .Values.gateway.ingress.hosts }}
{{- $host := (first .Values.gateway.ingress.hosts).host }}
{{- printf "%s://%s" (ternary "https" "http" (gt (len .Values.gateway.ingress.tls) 0)) $host }}
{{- end }}
{{- end }}

{{/*
Configuration (ConfigMap data) of each service: exactly the variables of its config schema,
{ ...natsSpec, ...configSpec } (packages/runtime/src/config.ts, apps/<app>/src/config.ts),
plus the standard OTEL_* ones. deploy/test/helm.test.ts checks the names against the schemas.
Numbers go through int64 (Helm reads YAML numbers as floats: 1e10 would print as 1e+10).
*/}}
{{- define "reel.config.nats" -}}
NATS_URL: {{ include "reel.natsUrl" . | quote }}
NATS_STREAM_REPLICAS: {{ .Values.jetstream.streamReplicas | int64 | quote }}
LOG_LEVEL: {{ .Values.logLevel | quote }}
{{- if .Values.otel.endpoint }}
OTEL_EXPORTER_OTLP_ENDPOINT: {{ .Values.otel.endpoint | quote }}
OTEL_EXPORTER_OTLP_PROTOCOL: {{ .Values.otel.protocol | quote }}
OTEL_METRICS_EXPORTER: {{ .Values.otel.metricsExporter | quote }}
OTEL_LOGS_EXPORTER: {{ .Values.otel.logsExporter | quote }}
{{- end }}
{{- if .Values.otel.resourceAttributes }}
OTEL_RESOURCE_ATTRIBUTES: {{ .Values.otel.resourceAttributes | quote }}
{{- end }}
{{- end }}

{{- define "reel.config.s3" -}}
S3_ENDPOINT: {{ .Values.s3.endpoint | quote }}
S3_REGION: {{ .Values.s3.region | quote }}
S3_SOURCE_BUCKET: {{ .Values.s3.sourceBucket | quote }}
S3_MEDIA_BUCKET: {{ .Values.s3.mediaBucket | quote }}
{{- if or (eq .Values.s3.credentials "iam") (and (eq .Values.s3.credentials "auto") (not .Values.existingSecret) (not .Values.s3.accessKey)) }}
S3_CREDENTIALS: "iam"
{{- end }}
{{- end }}

{{- define "reel.config.limits" -}}
MAX_UPLOAD_BYTES: {{ .Values.limits.maxUploadBytes | int64 | quote }}
MAX_DURATION_SEC: {{ .Values.limits.maxDurationSec | int64 | quote }}
MAX_RESOLUTION: {{ .Values.limits.maxResolution | int64 | quote }}
{{- end }}

{{- define "reel.config.gateway" -}}
{{ include "reel.config.nats" . }}
{{ include "reel.config.s3" . }}
{{ include "reel.config.limits" . }}
HOST: "0.0.0.0"
PORT: {{ .Values.gateway.port | int64 | quote }}
{{- with include "reel.publicUrl" . }}
PUBLIC_URL: {{ . | quote }}
{{- end }}
{{- with .Values.gateway.mediaPublicUrl }}
MEDIA_PUBLIC_URL: {{ . | quote }}
{{- end }}
EMBED_FRAME_ANCESTORS: {{ .Values.gateway.embedFrameAncestors | default "*" | quote }}
{{- with .Values.auth.jwksUrl }}
AUTH_JWKS_URL: {{ . | quote }}
{{- end }}
{{- with .Values.auth.issuer }}
AUTH_ISSUER: {{ . | quote }}
{{- end }}
{{- with .Values.auth.audience }}
AUTH_AUDIENCE: {{ . | quote }}
{{- end }}
PLAYBACK_TTL_SEC: {{ .Values.gateway.playbackTtlSec | int64 | quote }}
UPLOAD_URL_TTL_SEC: {{ .Values.gateway.uploadUrlTtlSec | int64 | quote }}
RATE_LIMIT_WRITES_PER_MIN: {{ .Values.gateway.rateLimitWritesPerMin | int64 | quote }}
HEALTH_TIMEOUT_MS: {{ .Values.gateway.healthTimeoutMs | int64 | quote }}
{{- end }}

{{- define "reel.config.ingest" -}}
{{ include "reel.config.nats" . }}
{{ include "reel.config.s3" . }}
{{ include "reel.config.limits" . }}
{{- end }}

{{- define "reel.config.transcoder" -}}
{{ include "reel.config.nats" . }}
{{ include "reel.config.s3" . }}
TRANSCODE_CONCURRENCY: {{ .Values.transcoder.concurrency | int64 | quote }}
X264_PRESET: {{ .Values.transcoder.x264Preset | quote }}
TRANSCODE_TIMEOUT_SEC: {{ .Values.transcoder.timeoutSec | int64 | quote }}
{{- end }}

{{- define "reel.config.packager" -}}
{{ include "reel.config.nats" . }}
{{ include "reel.config.s3" . }}
{{- end }}

{{- define "reel.config.catalog" -}}
{{ include "reel.config.nats" . }}
UPLOAD_SWEEP_INTERVAL_SEC: {{ .Values.catalog.uploadSweepIntervalSec | int64 | quote }}
STALL_AFTER_SEC: {{ .Values.catalog.stallAfterSec | int64 | quote }}
{{- end }}

{{- define "reel.config.webhooks" -}}
{{ include "reel.config.nats" . }}
WEBHOOK_ALLOW_PRIVATE: {{ .Values.webhooks.allowPrivate | toString | quote }}
WEBHOOK_BACKOFF_MS: {{ .Values.webhooks.backoffMs | quote }}
WEBHOOK_RETRY_FOR_SEC: {{ .Values.webhooks.retryForSec | int64 | quote }}
WEBHOOK_TIMEOUT_MS: {{ .Values.webhooks.timeoutMs | int64 | quote }}
{{- end }}

{{/*
Credentials of one service, as env entries reading the Secret. With existingSecret every key
but DATABASE_URL is optional (e.g. no S3 keys with workload identity).
input: dict "root" $ "app" name
*/}}
{{- define "reel.secretEnv" -}}
{{- $root := .root }}
{{- $secret := include "reel.secretName" $root }}
{{- $external := not (empty $root.Values.existingSecret) }}
{{- if has .app (list "catalog" "webhooks") }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: DATABASE_URL
{{- end }}
{{- if and (has .app (include "reel.s3Apps" $root | fromJsonArray)) (or $external $root.Values.s3.accessKey) }}
- name: S3_ACCESS_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: S3_ACCESS_KEY
      optional: {{ $external }}
- name: S3_SECRET_KEY
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: S3_SECRET_KEY
      optional: {{ $external }}
{{- end }}
{{- if eq .app "gateway" }}
{{- if or $external (not $root.Values.auth.jwksUrl) $root.Values.auth.jwtSecret }}
- name: AUTH_JWT_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: AUTH_JWT_SECRET
      optional: {{ $external }}
{{- end }}
{{- /* always: the chart-made Secret has one (given or generated); the gateway will not start without it when only a JWKS URL is set */}}
- name: PLAYBACK_SIGNING_SECRET
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: PLAYBACK_SIGNING_SECRET
      optional: {{ $external }}
{{- end }}
{{- end }}

{{/*
The HS256 secret in the chart-made Secret: auth.jwtSecret, else (no JWKS URL either) the one
generated at install and kept by later upgrades (lookup; `helm template` makes a new one).
*/}}
{{- define "reel.jwtSecret" -}}
{{- if .Values.auth.jwtSecret }}
{{- .Values.auth.jwtSecret }}
{{- else if not .Values.auth.jwksUrl }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "reel.fullname" .) }}
{{- $data := dict }}
{{- if $existing }}
{{- $data = $existing.data | default dict }}
{{- end }}
{{- if hasKey $data "AUTH_JWT_SECRET" }}
{{- index $data "AUTH_JWT_SECRET" | b64dec }}
{{- else }}
{{- randAlphaNum 48 }}
{{- end }}
{{- end }}
{{- end }}

{{/*
The playback-link secret in the chart-made Secret: auth.playbackSigningSecret, else the one
generated at install and kept by later upgrades (lookup; `helm template` makes a new one). Never
derived from anything public such as auth.jwksUrl.
*/}}
{{- define "reel.playbackSecret" -}}
{{- if .Values.auth.playbackSigningSecret }}
{{- .Values.auth.playbackSigningSecret }}
{{- else }}
{{- $existing := lookup "v1" "Secret" .Release.Namespace (include "reel.fullname" .) }}
{{- $data := dict }}
{{- if $existing }}
{{- $data = $existing.data | default dict }}
{{- end }}
{{- if hasKey $data "PLAYBACK_SIGNING_SECRET" }}
{{- index $data "PLAYBACK_SIGNING_SECRET" | b64dec }}
{{- else }}
{{- randAlphaNum 48 }}
{{- end }}
{{- end }}
{{- end }}

{{/* Checks that can't be written in values.schema.json. */}}
{{- define "reel.validate" -}}
{{- if and (not .Values.existingSecret) (ne (empty .Values.s3.accessKey) (empty .Values.s3.secretKey)) }}
{{- fail "s3.accessKey and s3.secretKey go together: set both, or neither (workload identity)" }}
{{- end }}
{{- if and .Values.keda.enabled (not .Values.nats.enabled) (not .Values.keda.natsMonitoringEndpoint) }}
{{- fail "keda.natsMonitoringEndpoint is required when keda.enabled is true and nats.enabled is false" }}
{{- end }}
{{- if and (not .Values.nats.enabled) (not .Values.externalNats.url) }}
{{- fail "externalNats.url is required when nats.enabled is false" }}
{{- end }}
{{- if gt (int .Values.transcoder.autoscaling.minReplicas) (int .Values.transcoder.autoscaling.maxReplicas) }}
{{- fail "transcoder.autoscaling.minReplicas is above maxReplicas" }}
{{- end }}
{{- end }}

{{/* The volume and mount every container gets: /tmp on an emptyDir (read-only root). */}}
{{- define "reel.tmpVolume" -}}
{{- $emptyDir := dict -}}
{{- if .medium }}{{ $_ := set $emptyDir "medium" .medium }}{{ end -}}
{{- if .sizeLimit }}{{ $_ := set $emptyDir "sizeLimit" .sizeLimit }}{{ end -}}
- name: tmp
  emptyDir: {{- toYaml $emptyDir | nindent 4 }}
{{- end }}
