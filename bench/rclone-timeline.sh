#!/bin/bash
# rclone with a timeline: each call appends "<start ns> <end ns> <exit code> <args>" to $RCLONE_TIMELINE, so a
# bench can show where a run's fixed cost goes (backup-bench.ts sets it as rclonePath). The wrapper itself adds a
# few milliseconds of bash per call.
start=$(date +%s%N)
/usr/bin/rclone "$@"
code=$?
echo "$start $(date +%s%N) $code $*" >> "${RCLONE_TIMELINE:-/dev/null}"
exit $code
