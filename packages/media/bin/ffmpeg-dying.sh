#!/bin/sh
# The ffmpeg fluent-ffmpeg runs (setFfmpegPath): the binary named by REEL_MEDIA_FFMPEG, put under
# `setpriv --pdeathsig SIGKILL` so that it dies with the worker even on kill -9. Both execs keep
# the pid: the process the worker spawned IS ffmpeg, its child. See src/dying.ts.
exec setpriv --pdeathsig SIGKILL -- "${REEL_MEDIA_FFMPEG:-ffmpeg}" "$@"
