/* Numbers and times as docker prints them for people. */
#ifndef IMGTOOL_HUMAN_H
#define IMGTOOL_HUMAN_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

/* "4.26MB", "812kB", "0B": decimal units, 3 significant digits (docker's
 * units.HumanSize). */
void human_size (int64_t bytes, char *buf, size_t len);
/* "5242880", "512k", "5m", "5MiB", "1GB": bytes, binary multiples as
 * docker's RAMInBytes. Returns 0, or -1 for anything else, zero, or an
 * overflow. */
int human_size_parse (const char *s, int64_t *out);
/* "3 seconds ago", "About a minute ago", "2 weeks ago" relative to now. */
void human_ago (time_t then, time_t now, char *buf, size_t len);
/* Parse an RFC 3339 time ("2024-01-02T03:04:05.123Z", "+01:00" offsets).
 * Returns 0 and the UTC time, -1 if it is not one. */
int rfc3339_parse (const char *s, time_t *out);
/* A Go duration ("30s", "1m30s", "1.5h", "500ms", "0") in nanoseconds.
 * Returns 0, or -1 if it is not one. */
int human_duration_parse (const char *s, int64_t *ns);
/* A point in time as docker's --since/--until read it (GetTimestamp): a
 * Go duration before now ("10m"), RFC 3339 with or without fraction and
 * zone ("2024-01-02T03:04:05Z", "2024-01-02T03:04", "2024-01-02": the
 * local zone when none is given), or Unix seconds[.nanoseconds].
 * now_ns is the current time. Returns 0 and *ns since the epoch, or -1. */
int human_time_parse (const char *s, int64_t now_ns, int64_t *ns);
/* Format a UTC time as RFC 3339 with a Z. */
void rfc3339_format (time_t t, char *buf, size_t len);
/* "2024-01-02 15:04:05 +0000 UTC": Go's time.Time String() in the local
 * zone, which docker's ps and images show as CreatedAt. */
void human_time_go (time_t t, char *buf, size_t len);

#endif
